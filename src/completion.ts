/**
 * `privacy-audit completion bash|zsh|fish`: a completion script made from the CLI's own command and
 * option lists (src/cli.ts), so a new flag is completed without editing this file. zsh uses the bash
 * function through bashcompinit, as many CLIs do.
 */
import { InputError } from './errors.ts';

/** Values some options and commands take. */
const VALUES: Record<string, string[]> = {
  '--scenario': ['retrained', 'unlearning', 'tabular', 'api', 'synthetic', 'dp', 'sisa'],
  '--inconclusive': ['fail', 'pass'],
  '--preset': ['privacy-audit:unlearning', 'privacy-audit:anonymisation', 'none'],
  '--attack': ['lira', 'rmia'],
  cache: ['verify', 'prune', 'clear', 'init'],
  completion: ['bash', 'zsh', 'fish'],
};
/** Options that take a folder. */
const DIRS = ['--out', '--cache-dir', '--inputs'];

const bashCase = (entries: [string, string[]][]) => entries.map(([k, v]) => `    ${k}) COMPREPLY=( $(compgen -W "${v.join(' ')}" -- "$cur") ); return ;;`).join('\n');

function bash(commands: string[], flags: string[]): string {
  return `# privacy-audit completion for bash (privacy-audit completion bash)
_privacy_audit() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands.join(' ')} ${flags.join(' ')}" -- "$cur") ); return
  fi
  case "$prev" in
${bashCase(Object.entries(VALUES))}
    ${DIRS.join('|')}) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
  esac
  case "$cur" in
    -*) COMPREPLY=( $(compgen -W "${flags.join(' ')}" -- "$cur") ) ;;
    *) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
  esac
}
complete -o filenames -F _privacy_audit privacy-audit
`;
}

function fish(commands: string[], flags: string[]): string {
  const lines = [`# privacy-audit completion for fish (privacy-audit completion fish)`, `complete -c privacy-audit -n __fish_use_subcommand -f -a "${commands.join(' ')}"`];
  for (const [k, v] of Object.entries(VALUES)) {
    if (k.startsWith('--')) lines.push(`complete -c privacy-audit -l ${k.slice(2)} -x -a "${v.join(' ')}"`);
    else lines.push(`complete -c privacy-audit -n "__fish_seen_subcommand_from ${k}" -f -a "${v.join(' ')}"`);
  }
  for (const f of flags) {
    if (f in VALUES) continue;
    lines.push(`complete -c privacy-audit -l ${f.slice(2)}${DIRS.includes(f) ? ' -x -a "(__fish_complete_directories)"' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: string | undefined, cli: { commands: string[]; flags: string[] }): string {
  const flags = cli.flags.map((f) => `--${f}`);
  if (shell === 'bash') return bash(cli.commands, flags);
  if (shell === 'zsh') return `#compdef privacy-audit\n# privacy-audit completion for zsh (privacy-audit completion zsh): the bash completion through bashcompinit\nautoload -U +X bashcompinit && bashcompinit\n${bash(cli.commands, flags)}`;
  if (shell === 'fish') return fish(cli.commands, flags);
  throw new InputError(`completion expects bash, zsh or fish${shell ? `, got "${shell}"` : ''}`);
}

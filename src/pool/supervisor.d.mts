// Declarations for ./supervisor.mjs (plain JavaScript: it starts without tsx).
export function deathMessage(signal: string, tasks: string[]): string;
export function childExecArgv(): string[];
export function supervise(bin: string, args: string[]): Promise<number>;
export function superviseeSetup(): void;

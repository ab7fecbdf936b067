/** Per-person aggregation: deletion requests and verdicts are per subject, not per record. */

/** Mean score per subject (records without a subject are their own subject). */
export function subjectMeans(split: { ids: string[]; subjects: (string | undefined)[]; scores: number[] }): Map<string, number> {
  const sum = new Map<string, [number, number]>();
  split.scores.forEach((x, i) => {
    const k = split.subjects[i] ?? split.ids[i]!;
    const e = sum.get(k) ?? [0, 0];
    sum.set(k, [e[0] + x, e[1] + 1]);
  });
  return new Map([...sum].map(([k, [t, n]]) => [k, t / n]));
}

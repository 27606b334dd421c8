export async function runScale(_opts: { postgres: boolean }): Promise<number> {
  throw new Error('--scale: not written yet');
}

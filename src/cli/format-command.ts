/** `vnet fmt`: placeholder wiring replaced by the formatter module. */
export async function formatCommand(_args: readonly string[], _out: (s: string) => void, err: (s: string) => void, _expand: (files: string[]) => string[]): Promise<number> {
  err("vnet fmt: not available yet");
  return 2;
}

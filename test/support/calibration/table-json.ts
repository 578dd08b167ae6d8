/**
 * The committed resource tables as text: two-space JSON in the layout the
 * repository's formatter (Biome, 100 columns) keeps, so regenerating a
 * table changes only what was measured: objects one key per line, arrays
 * of plain values on one line when they fit, one value per line otherwise.
 */
const WIDTH = 100;

function render(value: unknown, indent: string, prefix: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v) => render(v, `${indent}  `, ""));
    const inline = `[${items.join(", ")}]`;
    if (!inline.includes("\n") && indent.length + prefix.length + inline.length + 1 <= WIDTH)
      return inline;
    return `[\n${items.map((item) => `${indent}  ${item}`).join(",\n")}\n${indent}]`;
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const lines = entries.map(([key, v]) => {
      const keyText = `${JSON.stringify(key)}: `;
      return `${indent}  ${keyText}${render(v, `${indent}  `, keyText)}`;
    });
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** `value` as the text of a committed table file (with a final newline). */
export function renderTableJson(value: unknown): string {
  return `${render(value, "", "")}\n`;
}

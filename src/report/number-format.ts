/**
 * One way to print the numbers a user compares across the terminal output,
 * the report and the README: integers with thousands separators, byte counts
 * as `18,380 B`, fractions as `58.2 %`, large counts as `14.20 M`.
 */
export const integer = (n: number): string => Math.round(n).toLocaleString("en-US");
export const byteCount = (n: number): string => `${integer(n)} B`;
export const percent = (fraction: number): string => `${(100 * fraction).toFixed(1)} %`;
export const millions = (n: number): string => `${(n / 1e6).toFixed(2)} M`;
export const signedPercent = (fraction: number): string => {
  const text = (100 * fraction).toFixed(1);
  return `${fraction >= 0 && text !== "-0.0" ? "+" : ""}${text === "-0.0" ? "0.0" : text} %`;
};

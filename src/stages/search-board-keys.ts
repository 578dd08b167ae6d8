/**
 * The board keys a search's predictions depend on (its budgets and the
 * compiler the evaluator's tables were measured with); a module of its own so
 * the stages that read them do not load each other's code (a stage's code is
 * part of its cache key).
 */
export const SEARCH_BOARD_KEYS = [
  "board.name",
  "board.core",
  "board.dsp",
  "board.compiler",
  "board.memory",
] as const;

/*
 * Instruction-count markers. The insn_count QEMU plugin counts the guest
 * instructions executed from a call of tf_region_begin() to the next call of
 * tf_region_end() and writes one line per region. On the host (or on a real
 * board) the calls do nothing.
 */
#ifndef TF_MARKERS_H
#define TF_MARKERS_H

void tf_region_begin(void);
void tf_region_end(void);

#endif

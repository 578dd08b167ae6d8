/*
 * tf_nn_sparse_rows4_s8: the sparse product of tf_nn_sparse_rows4_s32 with
 * the requantization fused in.
 *
 * On the target, when the stage allows it (stage->fused: folded zero
 * points, whole int8 range; per-channel multipliers; the
 * channels without a stored block already written, stage->empty_prefilled),
 * one hand-scheduled loop walks the stored rows and requantizes each row's
 * four accumulators as soon as its blocks are walked. With 4 accumulators, 4
 * input words per LDM, 2 unpacked weights, the stream, input and block count
 * pointers, the block loop needs 13 registers, one short of all there are, so
 * C leaves the compiler spilling loop state at every row; here each stored
 * row costs 8 instructions to set up, 4 + 13 per 4 weights of a block (2.5
 * per weight for blocks of 1), and 37 to requantize and store four outputs
 * and loop (TF_STORE_FULL_FOLDED). In a layer where some channels shift left
 * each row tests its kind: 39, a right-shift row with TF_STORE_FULL_FOLDED,
 * a left-shift row (high_shift < 0) with TF_STORE_LEFT_FOLDED, 7
 * instructions per output either way.
 * Otherwise it falls back to tf_nn_sparse_rows4_s32 and
 * tf_nn_requant_rows4_s8.
 */
#include <stddef.h>

#include "tf_nn_internal.h"
#include "tf_nn_support.h"

#if TF_HAVE_FUSED_STORE

/* The walk steps through prepared multipliers with a shift of 5. */
typedef char tf_nn_requant_is_32_bytes[sizeof(tf_requant) == 32 ? 1 : -1];
/* It loads multiplier and high_shift with one LDRD. */
typedef char tf_nn_requant_pair
    [offsetof(tf_requant, high_shift) == offsetof(tf_requant, multiplier) + 4 ? 1 : -1];

/*
 * What the walk reads at entry; all but `bias`, `stream` and `mixed` go to
 * its stack frame. The walk keeps the current row's bias pointer in a
 * register and derives the row's multiplier and output pointers from it, so
 * `quant` and `out` are offsets against the bias address (modulo 2^32; the
 * bias array is word aligned, so the division by 4 is exact) and `bias`
 * points one channel before the first: integers, since C may not form such
 * pointers.
 */
typedef struct {
    uint32_t int32_min; /* INT32_MIN, for the sign correction */
    uintptr_t quant;    /* prepared + 32 * (channel) = quant + 8 * bias pointer */
    uintptr_t out;      /* out + channel = out + bias pointer / 4 */
    int32_t stride;
    int32_t rows_left; /* stored rows, at least 1 */
    const int32_t *buf;
    uintptr_t bias;
    const uint8_t *stream;
    int32_t mixed; /* some channels shift left (TF_SA_STORE_LEFT) */
} tf_nn_sparse_frame;

/* The walk loads the frame with one nine-register LDM. */
typedef char tf_nn_sparse_frame_is_9_words[sizeof(tf_nn_sparse_frame) == 36 ? 1 : -1];

/*
 * Registers in the walk: r0 stream, r1 input, r2 r3 r12 lr the accumulators
 * of the four input rows, r4-r7 input words, r8 r9 the weights (SXTB16
 * halves), r10 block count, r11 the row's bias pointer.
 *
 * The stack frame: int32_min, quant, out, stride (reloaded into r4-r7 at the
 * end of every row), then the address of the row end for this layer (label
 * 5 when every channel shifts right, 6 when some shift left; the Thumb bit
 * set), which the same LDM loads into pc: the choice costs no instruction
 * per row. Then rows_left and buf. ADR computes from the word-aligned pc,
 * so the walk's section must be word aligned: the .p2align after the
 * unconditional branch (never executed) makes it so at -Os too.
 */
#define TF_SA_PROLOGUE                                 \
    "push {r4-r11, lr}\n\t"                            \
    "sub sp, sp, #28\n\t"                              \
    "ldm r0, {r1, r2, r3, r4, r5, r6, r7, r8, r9}\n\t" \
    "stm sp, {r1, r2, r3, r4}\n\t"                     \
    "cmp r9, #0\n\t"                                   \
    "ite eq\n\t"                                       \
    "adreq r10, 5f\n\t"                                \
    "adrne r10, 6f\n\t"                                \
    "orr r10, r10, #1\n\t"                             \
    "strd r10, r5, [sp, #16]\n\t"                      \
    "str r6, [sp, #24]\n\t"                            \
    "mov r11, r7\n\t"                                  \
    "mov r0, r8\n\t"

/* Row header: skip, then block count; the bias into the accumulators. */
#define TF_SA_ROW_START            \
    "1:\n\t"                       \
    "ldrh r8, [r0], #2\n\t"        \
    "ldrh r10, [r0], #2\n\t"       \
    "add r11, r11, r8, lsl #2\n\t" \
    "ldr r2, [r11, #4]!\n\t"       \
    "mov r3, r2\n\t"               \
    "mov r12, r2\n\t"              \
    "mov lr, r2\n\t"               \
    "ldr r1, [sp, #24]\n\t"        \
    "2:\n\t"

/* Four weights of a block times the four packed rows (TF_NN_LAYOUT_QUAD). */
#define TF_SA_QUAD                    \
    "ldr r8, [r0], #4\n\t"            \
    "sxtb16 r9, r8, ror #8\n\t"       \
    "sxtb16 r8, r8\n\t"               \
    "ldmia r1!, {r4, r5, r6, r7}\n\t" \
    "smlad r2, r8, r4, r2\n\t"        \
    "smlad r2, r9, r5, r2\n\t"        \
    "smlad r3, r8, r6, r3\n\t"        \
    "smlad r3, r9, r7, r3\n\t"        \
    "ldmia r1!, {r4, r5, r6, r7}\n\t" \
    "smlad r12, r8, r4, r12\n\t"      \
    "smlad r12, r9, r5, r12\n\t"      \
    "smlad lr, r8, r6, lr\n\t"        \
    "smlad lr, r9, r7, lr\n\t"

/* One weight times [R0, R1] [R2, R3] (TF_NN_LAYOUT_PAIR). */
#define TF_SA_PAIR                \
    "ldrsb r8, [r0], #1\n\t"      \
    "ldmia r1!, {r4, r5}\n\t"     \
    "smlabb r2, r8, r4, r2\n\t"   \
    "smlabt r3, r8, r4, r3\n\t"   \
    "smlabb r12, r8, r5, r12\n\t" \
    "smlabt lr, r8, r5, lr\n\t"

#define TF_SA_RUN1 "ldrb r8, [r0], #1\n\t"
#define TF_SA_RUN2 "ldrh r8, [r0], #2\n\t"

/* TF_STORE_FULL_FOLDED of accumulator ACC (which it clobbers) to ADDR. */
#define TF_SA_STORE(ACC, ADDR)          \
    "ldrd r1, r10, [r5, %[folded]]\n\t" \
    "smlal r1, r10, " ACC               \
    ", r8\n\t"                          \
    "lsr " ACC ", " ACC                 \
    ", #31\n\t"                         \
    "smlal r1, r10, " ACC               \
    ", r4\n\t"                          \
    "asr r10, r10, r9\n\t"              \
    "ssat r10, #8, r10\n\t"             \
    "strb r10, " ADDR "\n\t"

/*
 * TF_STORE_LEFT_FOLDED of accumulator ACC (which it clobbers) to ADDR: r9 is
 * INT32_MIN | s, of which LSL reads the low byte.
 */
#define TF_SA_STORE_LEFT(ACC, ADDR)     \
    "lsl " ACC ", " ACC                 \
    ", r9\n\t"                          \
    "ssat " ACC ", #16, " ACC           \
    "\n\t"                              \
    "ldrd r1, r10, [r5, %[folded]]\n\t" \
    "smlal r1, r10, " ACC               \
    ", r8\n\t"                          \
    "smlal r1, r10, " ACC               \
    ", r8\n\t"                          \
    "ssat r10, #8, r10\n\t"             \
    "strb r10, " ADDR "\n\t"

/* The row's multiplier (r8, r9 = high_shift) and output addresses. */
#define TF_SA_ROW_CHANNEL         \
    "add r5, r5, r11, lsl #3\n\t" \
    "add r6, r6, r11, lsr #2\n\t" \
    "ldrd r8, r9, [r5, %[multiplier]]\n\t"

/* The four outputs of a row with STORE, then the next stored row. */
#define TF_SA_ROW_STORES(STORE) \
    STORE("r2", "[r6]")         \
    STORE("r3", "[r6, r7]")     \
    "add r6, r6, r7, lsl #1\n\t" \
    STORE("r12", "[r6]")         \
    STORE("lr", "[r6, r7]")      \
    "ldr r10, [sp, #20]\n\t"     \
    "subs r10, r10, #1\n\t"      \
    "str r10, [sp, #20]\n\t"     \
    "bne 1b\n\t"

/*
 * The end of a row: the LDM jumps to 5 (right shifts only) or 6 (some left
 * shifts: a test per row, either kind of row then costs the same).
 */
#define TF_SA_ROW_END \
    "subs r10, r10, #1\n\t"                    \
    "bne 2b\n\t"                               \
    "ldm sp, {r4, r5, r6, r7, pc}\n\t"         \
    "6:\n\t"                                   \
    TF_SA_ROW_CHANNEL                          \
    "cmp r9, #0\n\t"                           \
    "bge 7f\n\t"                               \
    TF_SA_ROW_STORES(TF_SA_STORE_LEFT)         \
    "b 4f\n\t"                                 \
    ".p2align 2\n\t"                           \
    "5:\n\t"                                   \
    TF_SA_ROW_CHANNEL                          \
    "7:\n\t"                                   \
    TF_SA_ROW_STORES(TF_SA_STORE)              \
    "4:\n\t"                                   \
    "add sp, sp, #28\n\t"                      \
    "pop {r4-r11, lr}\n\t"

/*
 * One walk per (block size, run width): the run advances the input by
 * SHIFT = log2(bytes of packed input per block): 8 per weight in either
 * layout, so 3 for blocks of 1 up to 7 for blocks of 16.
 */
#define TF_SPARSE_WALK(NAME, RUN, SHIFT, BLOCK)                                               \
    static void NAME(tf_nn_sparse_frame *frame) {                                             \
        register tf_nn_sparse_frame *f __asm("r0") = frame;                                   \
        __asm volatile(                                                                       \
            TF_SA_PROLOGUE TF_SA_ROW_START RUN "add r1, r1, r8, lsl #" #SHIFT                 \
                                               "\n\t" BLOCK TF_SA_ROW_END                     \
            : "+r"(f)                                                                         \
            : [multiplier] "i"(offsetof(tf_requant, multiplier)), [folded] "i"(offsetof(      \
                                                                      tf_requant, folded_lo)) \
            : "r1", "r2", "r3", "r12", "cc", "memory");                                       \
    }

TF_SPARSE_WALK(walk_b1_r1, TF_SA_RUN1, 3, TF_SA_PAIR)
TF_SPARSE_WALK(walk_b1_r2, TF_SA_RUN2, 3, TF_SA_PAIR)
TF_SPARSE_WALK(walk_b4_r1, TF_SA_RUN1, 5, TF_SA_QUAD)
TF_SPARSE_WALK(walk_b4_r2, TF_SA_RUN2, 5, TF_SA_QUAD)
TF_SPARSE_WALK(walk_b8_r1, TF_SA_RUN1, 6, TF_SA_QUAD TF_SA_QUAD)
TF_SPARSE_WALK(walk_b8_r2, TF_SA_RUN2, 6, TF_SA_QUAD TF_SA_QUAD)
TF_SPARSE_WALK(walk_b16_r1, TF_SA_RUN1, 7, TF_SA_QUAD TF_SA_QUAD TF_SA_QUAD TF_SA_QUAD)
TF_SPARSE_WALK(walk_b16_r2, TF_SA_RUN2, 7, TF_SA_QUAD TF_SA_QUAD TF_SA_QUAD TF_SA_QUAD)

static void walk_fused(const int32_t *buf, const tf_sparse_weights *w,
                       const tf_nn_output_stage *stage, int8_t *out, int32_t stride) {
    const uintptr_t bias = (uintptr_t)stage->bias;
    tf_nn_sparse_frame f;
    f.int32_min = 0x80000000u;
    f.quant = (uintptr_t)stage->prepared - 8u * bias;
    f.out = (uintptr_t)out - bias / 4u;
    f.stride = stride;
    f.rows_left = w->stored_rows;
    f.buf = buf;
    f.bias = bias - sizeof(int32_t);
    f.stream = w->stream;
    f.mixed = stage->fused == 2;
    const int wide = w->run_bytes != 1;
    switch (w->block_size) {
        case 16:
            if (wide)
                walk_b16_r2(&f);
            else
                walk_b16_r1(&f);
            break;
        case 8:
            if (wide)
                walk_b8_r2(&f);
            else
                walk_b8_r1(&f);
            break;
        case 4:
            if (wide)
                walk_b4_r2(&f);
            else
                walk_b4_r1(&f);
            break;
        default:
            if (wide)
                walk_b1_r2(&f);
            else
                walk_b1_r1(&f);
            break;
    }
}
#endif

void tf_nn_sparse_rows4_s8(const int32_t *buf, int32_t k, const tf_sparse_weights *w, int32_t rows,
                           const tf_nn_output_stage *stage, int32_t *acc, int8_t *out,
                           int32_t stride) {
#if TF_HAVE_FUSED_STORE
    if (stage->fused && stage->per_channel && stage->bias != 0 &&
        (stage->empty_prefilled || w->stored_rows == rows)) {
        if (w->stored_rows > 0) walk_fused(buf, w, stage, out, stride);
        return;
    }
#endif
    tf_nn_sparse_rows4_s32(buf, k, w, rows, stage->bias, acc);
    tf_nn_requant_rows4_s8(acc, rows, stage, out, stride);
}

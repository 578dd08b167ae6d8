/*
 * Target harness for a generated model (hand-written; compiled with the
 * generated tf_model.c and kernels for the board and run under QEMU with
 * semihosting):
 *
 *   reads N int8 inputs of TF_MODEL_INPUT_SIZE bytes, back to back, from the
 *   semihosting file TF_TARGET_INPUTS (default "inputs.bin"), runs
 *   tf_model_run on each between tf_region_begin() and tf_region_end(), and
 *   writes the N outputs of TF_MODEL_OUTPUT_SIZE bytes to TF_TARGET_OUTPUTS
 *   (default "outputs.bin"). Built with -DTF_MODEL_DEBUG, it also writes
 *   every layer's output, in layer order, for every input to TF_TARGET_TRACE
 *   (default "trace.bin"), which names the first differing layer when the
 *   outputs do not match the interpreter's.
 *
 * One empty region comes first, so the insn_count plugin reports
 * [empty, input 1, input 2, ...] and the marker overhead can be subtracted.
 * Built with -DTF_MODEL_PROFILE, every layer is a region instead of every
 * inference (tf_model_profile_begin / _end mark them): the plugin reports
 * [empty, layer 0 of input 1, layer 1 of input 1, ..., layer 0 of input 2,
 * ...], the per-layer profile the resource model is calibrated and checked
 * against.
 * Exit status: 0 on success, 1 on an I/O error, 2 when tf_model_run returns
 * an error status (printed through semihosting).
 */
#include <stdint.h>
#include <stdio.h>

#include "tf_markers.h"
#include "tf_model.h"

#ifndef TF_TARGET_INPUTS
#define TF_TARGET_INPUTS "inputs.bin"
#endif
#ifndef TF_TARGET_OUTPUTS
#define TF_TARGET_OUTPUTS "outputs.bin"
#endif
#ifndef TF_TARGET_TRACE
#define TF_TARGET_TRACE "trace.bin"
#endif

#ifdef TF_MODEL_DEBUG
static FILE *trace_file = 0;

void tf_model_debug_layer(int32_t layer, const char *op_name, const int8_t *data, int32_t size) {
    (void)layer;
    (void)op_name;
    if (trace_file != 0) fwrite(data, 1, (size_t)size, trace_file);
}
#endif

#ifdef TF_MODEL_PROFILE
/* Not inlined: the empty region must pay for the hook calls as every layer does. */
__attribute__((noinline)) void tf_model_profile_begin(int32_t layer) {
    (void)layer;
    tf_region_begin();
}

__attribute__((noinline)) void tf_model_profile_end(int32_t layer) {
    (void)layer;
    tf_region_end();
}

#define TF_TARGET_EMPTY_REGION() (tf_model_profile_begin(-1), tf_model_profile_end(-1))
#define TF_TARGET_RUN_BEGIN() ((void)0)
#define TF_TARGET_RUN_END() ((void)0)
#else
#define TF_TARGET_EMPTY_REGION() (tf_region_begin(), tf_region_end())
#define TF_TARGET_RUN_BEGIN() tf_region_begin()
#define TF_TARGET_RUN_END() tf_region_end()
#endif

static int8_t input[TF_MODEL_INPUT_SIZE];
static int8_t output[TF_MODEL_OUTPUT_SIZE];

int main(void) {
    FILE *in = fopen(TF_TARGET_INPUTS, "rb");
    FILE *out = fopen(TF_TARGET_OUTPUTS, "wb");
    if (in == 0 || out == 0) {
        fputs("tf_model_target: cannot open " TF_TARGET_INPUTS " or " TF_TARGET_OUTPUTS "\n",
              stderr);
        return 1;
    }
#ifdef TF_MODEL_DEBUG
    trace_file = fopen(TF_TARGET_TRACE, "wb");
    if (trace_file == 0) {
        fputs("tf_model_target: cannot open " TF_TARGET_TRACE "\n", stderr);
        return 1;
    }
#endif
    TF_TARGET_EMPTY_REGION();
    int status = 0;
    long count = 0;
    while (fread(input, 1, sizeof input, in) == sizeof input) {
        TF_TARGET_RUN_BEGIN();
        const tf_status s = tf_model_run(input, output);
        TF_TARGET_RUN_END();
        if (s != TF_STATUS_OK) {
            fprintf(stderr, "tf_model_run failed on input %ld with status %d\n", count, (int)s);
            status = 2;
            break;
        }
        if (fwrite(output, 1, sizeof output, out) != sizeof output) {
            status = 1;
            break;
        }
        count++;
    }
    fclose(in);
    if (fclose(out) != 0) status = 1;
#ifdef TF_MODEL_DEBUG
    if (fclose(trace_file) != 0) status = 1;
#endif
    return status;
}

/*
 * Host harness for a generated model (hand-written; compiled with the
 * generated tf_model.c and kernels):
 *
 *   tf_model_host run INPUTS OUTPUTS [TRACE]
 *       INPUTS: N int8 inputs of TF_MODEL_INPUT_SIZE bytes back to back;
 *       writes N outputs of TF_MODEL_OUTPUT_SIZE bytes to OUTPUTS. Built with
 *       -DTF_MODEL_DEBUG, also writes every layer's output, in layer order,
 *       for every input to TRACE.
 *   tf_model_host quantize FLOATS INT8S
 *       FLOATS: float32 values (host byte order); writes them quantized with
 *       tf_model_quantize_input.
 *
 * Exit status: 0 on success, 1 on a usage or I/O error, 2 when tf_model_run
 * returns an error status (printed on stderr).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tf_model.h"

#ifdef TF_MODEL_DEBUG
static FILE *trace_file = 0;

void tf_model_debug_layer(int32_t layer, const char *op_name, const int8_t *data, int32_t size) {
    (void)layer;
    (void)op_name;
    if (trace_file != 0) fwrite(data, 1, (size_t)size, trace_file);
}
#endif

static int run(const char *inputs_path, const char *outputs_path, const char *trace_path) {
    static int8_t input[TF_MODEL_INPUT_SIZE];
    static int8_t output[TF_MODEL_OUTPUT_SIZE];
    FILE *in = fopen(inputs_path, "rb");
    FILE *out = fopen(outputs_path, "wb");
    if (in == 0 || out == 0) {
        fprintf(stderr, "cannot open %s or %s\n", inputs_path, outputs_path);
        return 1;
    }
#ifdef TF_MODEL_DEBUG
    if (trace_path != 0) trace_file = fopen(trace_path, "wb");
#else
    (void)trace_path;
#endif
    int status = 0;
    long count = 0;
    while (fread(input, 1, sizeof input, in) == sizeof input) {
        const tf_status s = tf_model_run(input, output);
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
    if (trace_file != 0 && fclose(trace_file) != 0) status = 1;
#endif
    return status;
}

static int quantize(const char *floats_path, const char *out_path) {
    FILE *in = fopen(floats_path, "rb");
    FILE *out = fopen(out_path, "wb");
    if (in == 0 || out == 0) {
        fprintf(stderr, "cannot open %s or %s\n", floats_path, out_path);
        return 1;
    }
    float x[256];
    int8_t q[256];
    size_t n;
    while ((n = fread(x, sizeof x[0], 256, in)) > 0) {
        tf_model_quantize_input(x, q, (int32_t)n);
        fwrite(q, 1, n, out);
    }
    fclose(in);
    return fclose(out) != 0 ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "run") == 0)
        return run(argv[2], argv[3], argc > 4 ? argv[4] : 0);
    if (argc == 4 && strcmp(argv[1], "quantize") == 0) return quantize(argv[2], argv[3]);
    fprintf(stderr, "usage: %s run INPUTS OUTPUTS [TRACE] | quantize FLOATS INT8S\n", argv[0]);
    return 1;
}

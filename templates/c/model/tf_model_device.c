/*
 * Device harness for a generated model (hand-written): the smallest program
 * that links the whole model, so the device link of compile-target measures
 * the model's flash and SRAM footprint on the board's real memory map. It
 * runs one inference on a zero input; a real application replaces it with
 * its own main that fills the input from a sensor.
 */
#include <stdint.h>

#include "tf_model.h"

static int8_t input[TF_MODEL_INPUT_SIZE];
static int8_t output[TF_MODEL_OUTPUT_SIZE];

int main(void) { return tf_model_run(input, output) == TF_STATUS_OK ? 0 : 1; }

/*
 * The markers are real, separate, non-inlined functions so that their first
 * instruction has a fixed address the plugin can watch (found with nm). Each
 * stores a different value to a volatile flag, so the compiler can neither
 * remove them nor fold the two into one function.
 */
#include "tf_markers.h"

volatile int tf_marker_state;

__attribute__((noinline)) void tf_region_begin(void) { tf_marker_state = 1; }

__attribute__((noinline)) void tf_region_end(void) { tf_marker_state = 2; }

/* tf_nn_pack_rows4_s16: four int8 rows -> offset int16 layout (see tf_nn_internal.h). */
#include "tf_nn_internal.h"
#include "tf_nn_support.h"

static inline int32_t pair16(int32_t lo, int32_t hi) {
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}

void tf_nn_pack_rows4_s16(const int8_t *const rows[4], int32_t k, int32_t offset,
                          tf_nn_row_layout layout, int32_t *buf) {
    const int8_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    int32_t i = 0;
    if (layout == TF_NN_LAYOUT_QUAD) {
        const int32_t off2 = tf_dup16(offset);
        for (; i + 4 <= k; i += 4) {
            const int32_t v0 = tf_read_s8x4(r0 + i), v1 = tf_read_s8x4(r1 + i);
            const int32_t v2 = tf_read_s8x4(r2 + i), v3 = tf_read_s8x4(r3 + i);
            buf[0] = tf_sadd16(tf_sxtb16(v0), off2);
            buf[1] = tf_sadd16(tf_sxtb16_ror8(v0), off2);
            buf[2] = tf_sadd16(tf_sxtb16(v1), off2);
            buf[3] = tf_sadd16(tf_sxtb16_ror8(v1), off2);
            buf[4] = tf_sadd16(tf_sxtb16(v2), off2);
            buf[5] = tf_sadd16(tf_sxtb16_ror8(v2), off2);
            buf[6] = tf_sadd16(tf_sxtb16(v3), off2);
            buf[7] = tf_sadd16(tf_sxtb16_ror8(v3), off2);
            buf += 8;
        }
    }
    for (; i < k; i++) {
        buf[0] = pair16(r0[i] + offset, r1[i] + offset);
        buf[1] = pair16(r2[i] + offset, r3[i] + offset);
        buf += 2;
    }
}

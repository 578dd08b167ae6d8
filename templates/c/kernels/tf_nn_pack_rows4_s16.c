/* tf_nn_pack_rows4_s16: four int8 rows -> offset int16 layout (see tf_nn_internal.h). */
#include "tf_nn_internal.h"
#include "tf_nn_support.h"

void tf_nn_pack_rows4_s16(const int8_t *const rows[4], int32_t k, int32_t offset,
                          tf_nn_row_layout layout, int32_t *buf) {
    const int8_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    int32_t i = 0;
    if (layout == TF_NN_LAYOUT_QUAD) {
        const int32_t off2 = tf_dup16(offset);
        for (; i + 4 <= k; i += 4) {
            const int32_t v0 = tf_read_s8x4(r0 + i), v1 = tf_read_s8x4(r1 + i);
            const int32_t v2 = tf_read_s8x4(r2 + i), v3 = tf_read_s8x4(r3 + i);
            /* SXTAB16: sign-extend two bytes and add the offset in one instruction. */
            buf[0] = tf_sxtab16(off2, v0);
            buf[1] = tf_sxtab16_ror8(off2, v0);
            buf[2] = tf_sxtab16(off2, v1);
            buf[3] = tf_sxtab16_ror8(off2, v1);
            buf[4] = tf_sxtab16(off2, v2);
            buf[5] = tf_sxtab16_ror8(off2, v2);
            buf[6] = tf_sxtab16(off2, v3);
            buf[7] = tf_sxtab16_ror8(off2, v3);
            buf += 8;
        }
    }
    if (layout == TF_NN_LAYOUT_PAIR) {
        const int32_t off2 = tf_dup16(offset);
        for (; i + 4 <= k; i += 4) {
            const int32_t v0 = tf_read_s8x4(r0 + i), v1 = tf_read_s8x4(r1 + i);
            const int32_t v2 = tf_read_s8x4(r2 + i), v3 = tf_read_s8x4(r3 + i);
            /* Even / odd columns of each row, offset added: [R(i), R(i+2)], [R(i+1), R(i+3)]. */
            const int32_t e0 = tf_sxtab16(off2, v0), o0 = tf_sxtab16_ror8(off2, v0);
            const int32_t e1 = tf_sxtab16(off2, v1), o1 = tf_sxtab16_ror8(off2, v1);
            const int32_t e2 = tf_sxtab16(off2, v2), o2 = tf_sxtab16_ror8(off2, v2);
            const int32_t e3 = tf_sxtab16(off2, v3), o3 = tf_sxtab16_ror8(off2, v3);
            /* Low halves pair up for columns i, i+1, high halves for i+2, i+3. */
            buf[0] = tf_pack_low16(e0, e1);
            buf[1] = tf_pack_low16(e2, e3);
            buf[2] = tf_pack_low16(o0, o1);
            buf[3] = tf_pack_low16(o2, o3);
            buf[4] = tf_pack_high16(e0, e1);
            buf[5] = tf_pack_high16(e2, e3);
            buf[6] = tf_pack_high16(o0, o1);
            buf[7] = tf_pack_high16(o2, o3);
            buf += 8;
        }
    }
    for (; i < k; i++) {
        buf[0] = tf_pack_low16(r0[i] + offset, r1[i] + offset);
        buf[1] = tf_pack_low16(r2[i] + offset, r3[i] + offset);
        buf += 2;
    }
}

/*
 * insn_count: a QEMU TCG plugin that counts guest instructions executed
 * between two marker functions.
 *
 * Arguments (`-plugin insn_count.so,begin=0xADDR,end=0xADDR,out=FILE`):
 *   begin  address of the first instruction of the "region begins" marker
 *   end    address of the first instruction of the "region ends" marker
 *   out    file that receives one decimal line per region, then
 *          "total N" (every instruction of the run) at exit
 * Without begin/end only the total is written.
 *
 * Every time the guest executes `begin` the plugin remembers the running
 * instruction total; every time it executes `end` it appends the number of
 * instructions executed since then to `out`. The count of a region includes
 * the marker calls' own few instructions; harnesses measure an empty region
 * first and subtract it.
 *
 * Counting is exact and deterministic: a translation block without markers
 * adds its length when it starts executing (inline, no helper call); a block
 * holding a marker gets one callback per instruction instead, so the snapshot
 * is taken at the marker instruction itself. Bare-metal harnesses run with
 * interrupts off, so a block never stops half way.
 *
 * QEMU's plugin header may not be installed, so the few API declarations we
 * use (plugin API version 1, QEMU 4.2 .. 8.x) are written out below.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* Instructions executed so far (the guest is single-core: one vCPU). */
static uint64_t total;
/* Total at the last `begin`, and whether a region is open. */
static uint64_t region_start;
static bool region_open;
/* UINT64_MAX: no marker (no guest instruction has that address). */
static uint64_t begin_addr = UINT64_MAX;
static uint64_t end_addr = UINT64_MAX;
static FILE *out;

enum insn_kind { PLAIN = 0, BEGIN = 1, END = 2 };

static void on_insn(unsigned int vcpu_index, void *userdata) {
    (void)vcpu_index;
    enum insn_kind kind = (enum insn_kind)(uintptr_t)userdata;
    if (kind == BEGIN) {
        region_start = total;
        region_open = true;
    } else if (kind == END && region_open) {
        fprintf(out, "%" PRIu64 "\n", total - region_start);
        fflush(out);
        region_open = false;
    }
    total += 1;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    bool has_marker = false;
    for (size_t i = 0; i < n; i++) {
        uint64_t pc = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i));
        if (pc == begin_addr || pc == end_addr) has_marker = true;
    }
    if (!has_marker) {
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &total, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        enum insn_kind kind = pc == begin_addr ? BEGIN : pc == end_addr ? END : PLAIN;
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS,
                                               (void *)(uintptr_t)kind);
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    fprintf(out, "total %" PRIu64 "\n", total);
    fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
    (void)info;
    const char *out_path = NULL;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "begin=", 6) == 0) {
            begin_addr = strtoull(arg + 6, NULL, 0) & ~(uint64_t)1;
        } else if (strncmp(arg, "end=", 4) == 0) {
            end_addr = strtoull(arg + 4, NULL, 0) & ~(uint64_t)1;
        } else if (strncmp(arg, "out=", 4) == 0) {
            out_path = arg + 4;
        } else {
            fprintf(stderr, "insn_count: unknown argument %s\n", arg);
            return -1;
        }
    }
    if (out_path == NULL) {
        fprintf(stderr, "insn_count: needs out=FILE (and optionally begin=ADDR,end=ADDR)\n");
        return -1;
    }
    out = fopen(out_path, "w");
    if (out == NULL) {
        fprintf(stderr, "insn_count: cannot open %s\n", out_path);
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}

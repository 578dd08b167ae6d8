/*
 * Bare-metal start-up for Cortex-M (QEMU mps2-an500 and real boards).
 *
 * The vector table holds the initial stack pointer and the reset handler;
 * every other exception parks in a loop that reports the fault through
 * semihosting and exits with status 3, so a crash ends the emulator instead
 * of hanging it. The reset handler enables the FPU (CPACR: full access to
 * CP10 and CP11), copies .data from flash to RAM, zeroes .bss, opens the
 * semihosting handles (newlib rdimon) and calls main(); main's return value
 * becomes the exit status.
 *
 * Symbols come from the generated linker script (harness/linker.ld.hbs):
 *   __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern uint32_t __stack_top;
extern uint32_t __data_load;
extern uint32_t __data_start;
extern uint32_t __data_end;
extern uint32_t __bss_start;
extern uint32_t __bss_end;

extern int main(void);
extern void initialise_monitor_handles(void);

void tf_reset_handler(void);
void tf_fault_handler(void);

#define TF_CPACR (*(volatile uint32_t *)0xE000ED88u)

void tf_reset_handler(void) {
    TF_CPACR |= (0xFu << 20);
    __asm volatile("dsb\n\tisb" ::: "memory");

    const uint32_t *src = &__data_load;
    for (uint32_t *dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
    for (uint32_t *dst = &__bss_start; dst < &__bss_end;) *dst++ = 0u;

    initialise_monitor_handles();
    exit(main());
}

void tf_fault_handler(void) {
    fputs("tf_startup: unexpected exception (fault)\n", stderr);
    exit(3);
}

typedef void (*tf_vector_t)(void);

/* Initial SP, reset, then NMI .. SysTick (14 system exceptions). */
__attribute__((section(".vectors"), used)) const tf_vector_t tf_vector_table[16] = {
    (tf_vector_t)(uintptr_t)&__stack_top, /* initial stack pointer */
    tf_reset_handler,                     /* reset */
    tf_fault_handler,                     /* NMI */
    tf_fault_handler,                     /* HardFault */
    tf_fault_handler,                     /* MemManage */
    tf_fault_handler,                     /* BusFault */
    tf_fault_handler,                     /* UsageFault */
    0,                                    /* reserved */
    0,                                    /* reserved */
    0,                                    /* reserved */
    0,                                    /* reserved */
    tf_fault_handler,                     /* SVCall */
    tf_fault_handler,                     /* DebugMonitor */
    0,                                    /* reserved */
    tf_fault_handler,                     /* PendSV */
    tf_fault_handler,                     /* SysTick */
};

/*
 * Bare-metal start-up for Cortex-M (QEMU mps2-an500 and real boards).
 *
 * The vector table holds the initial stack pointer and the reset handler.
 * The reset handler enables the FPU (CPACR: full access to CP10 and CP11),
 * copies .data from flash to RAM, zeroes .bss and calls main().
 *
 * With TF_SEMIHOSTING (emulator builds, linked with newlib's rdimon) it
 * first opens the semihosting handles, main's return value becomes the exit
 * status, and every other exception reports the fault through semihosting
 * and exits with status 3, so a crash ends the emulator instead of hanging
 * it. Without it (device builds, linked with nosys) nothing touches a
 * debugger: after main returns the core sleeps, and a fault parks in a loop
 * where a debugger can inspect it.
 *
 * Symbols come from the generated linker script (harness/linker.ld.hbs):
 *   __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end.
 */
#include <stdint.h>
#ifdef TF_SEMIHOSTING
#include <stdio.h>
#include <stdlib.h>
#endif

extern uint32_t __stack_top;
extern uint32_t __data_load;
extern uint32_t __data_start;
extern uint32_t __data_end;
extern uint32_t __bss_start;
extern uint32_t __bss_end;

extern int main(void);
#ifdef TF_SEMIHOSTING
extern void initialise_monitor_handles(void);
#endif

void tf_reset_handler(void);
void tf_fault_handler(void);

#define TF_CPACR (*(volatile uint32_t *)0xE000ED88u)

void tf_reset_handler(void) {
    TF_CPACR |= (0xFu << 20);
    __asm volatile("dsb\n\tisb" ::: "memory");

    const uint32_t *src = &__data_load;
    for (uint32_t *dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
    for (uint32_t *dst = &__bss_start; dst < &__bss_end;) *dst++ = 0u;

#ifdef TF_SEMIHOSTING
    initialise_monitor_handles();
    exit(main());
#else
    (void)main();
    for (;;) __asm volatile("wfi");
#endif
}

void tf_fault_handler(void) {
#ifdef TF_SEMIHOSTING
    fputs("tf_startup: unexpected exception (fault)\n", stderr);
    exit(3);
#else
    for (;;) {
    }
#endif
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

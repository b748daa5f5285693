//! The little a freestanding Linux x86-64 program needs without libc:
//! the entry point, `write` and `exit_group` as raw system calls, and the
//! memory functions the compiler calls (`memcpy`, `memmove`, `memset`,
//! `memcmp`, `bcmp`), which libc would otherwise provide.
//!
//! This is the only module with `unsafe`; each block says why it holds.
//! The memory functions are written with string instructions and
//! volatile reads, so the compiler cannot turn their loops back into
//! calls to themselves.

use core::arch::{asm, naked_asm};

/// The process entry point. The kernel starts it with the stack pointer
/// 16-byte aligned and pointing at `argc`; a function call expects it
/// 8 bytes below such a boundary (the return address). So the stack is
/// aligned and `main` is called from here.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    naked_asm!(
        // The outermost frame: no caller frame to point at.
        "xor ebp, ebp",
        "and rsp, -16",
        "call {entry}",
        "ud2",
        entry = sym entry,
    )
}

/// Runs the program and exits with its status.
extern "C" fn entry() -> ! {
    exit(crate::run())
}

/// The precompiled `core` of a Linux target is built for unwinding and
/// names this personality routine in its unwind tables. With
/// `panic = "abort"` nothing ever unwinds, so it is never called; it only
/// has to exist for the link.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

/// Ends the process (all its threads) with `code` (Linux `exit_group`).
pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group (231) takes one integer argument and does not
    // return; no memory is read or written.
    unsafe {
        asm!(
            "syscall",
            in("rax") 231,
            in("rdi") code,
            options(noreturn, nostack),
        )
    }
}

/// Writes `bytes` to standard output (file descriptor 1), as far as the
/// kernel takes them; errors are ignored (there is no one to tell).
pub fn write_stdout(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let written: isize;
        // SAFETY: write (1) reads `len` bytes at `ptr`, which is a live
        // slice of exactly that length; the kernel clobbers rcx and r11.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") 1isize => written,
                in("rdi") 1,
                in("rsi") bytes.as_ptr(),
                in("rdx") bytes.len(),
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            )
        }
        if written <= 0 {
            return;
        }
        bytes = &bytes[(written as usize).min(bytes.len())..];
    }
}

/// Copies `n` bytes from `src` to `dst`, which must not overlap.
///
/// # Safety
///
/// `src` must be valid for `n` byte reads and `dst` for `n` byte writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges; `rep movsb` copies rcx
    // bytes forward from rsi to rdi (the direction flag is clear, as the
    // ABI requires at every call).
    unsafe {
        asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
    }
    dst
}

/// Copies `n` bytes from `src` to `dst`; the ranges may overlap.
///
/// # Safety
///
/// `src` must be valid for `n` byte reads and `dst` for `n` byte writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // The destination starts before the source or past its end: a
        // forward copy never overwrites a byte before reading it.
        // SAFETY: the caller guarantees both ranges.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: the caller guarantees both ranges. With the direction flag
    // set, `rep movsb` copies backwards from the last byte, which is safe
    // when the destination lies above an overlapping source; the flag is
    // cleared again before returning, as the ABI requires.
    unsafe {
        asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dst.wrapping_add(n).wrapping_sub(1) => _,
            inout("rsi") src.wrapping_add(n).wrapping_sub(1) => _,
            options(nostack),
        );
    }
    dst
}

/// Sets `n` bytes at `dst` to the low byte of `value`.
///
/// # Safety
///
/// `dst` must be valid for `n` byte writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, value: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range; `rep stosb` stores al into
    // rcx bytes forward from rdi.
    unsafe {
        asm!(
            "rep stosb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            in("al") value as u8,
            options(nostack, preserves_flags),
        );
    }
    dst
}

/// Compares `n` bytes: negative, zero or positive as the first differing
/// byte of `a` is below, equal to or above that of `b`.
///
/// # Safety
///
/// `a` and `b` must be valid for `n` byte reads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: i < n, within both ranges the caller guarantees.
        // Volatile, so the loop is not recognized as a memcmp idiom.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// Zero when the `n` bytes at `a` and `b` are equal, nonzero otherwise.
///
/// # Safety
///
/// `a` and `b` must be valid for `n` byte reads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the same ranges, passed on.
    unsafe { memcmp(a, b, n) }
}

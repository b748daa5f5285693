//! Everything unsafe in this crate: the `mmap`, socket and `bpf` system
//! calls, the rings shared with the kernel, and the UMEM frames the
//! kernel writes into.
//!
//! The rest of the crate sees only safe types: [`Xsk`] (the socket, its
//! UMEM and its four rings, with a state per frame so that a frame lent
//! to the stack is never one the kernel holds) and [`XdpProgram`] (the
//! redirect program, its XSKMAP and the link that attaches it).

// Every unsafe block says why it holds.
#![deny(clippy::undocumented_unsafe_blocks)]

mod bpf;
mod ring;
mod xsk;

pub(crate) use bpf::{
    AttachError, XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE, XdpProgram, program_exists,
};
pub(crate) use xsk::{Bound, Received, XDP_PACKET_HEADROOM, Xsk};

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// The calling thread's `errno`.
pub(crate) fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The index of interface `name` in the calling thread's network
/// namespace; 0 if there is none.
pub(crate) fn interface_index(name: ethox::nic::sys::IfName) -> u32 {
    let c_name = name.to_c_chars();
    // SAFETY: `c_name` is NUL-terminated (15 name bytes at most in 16)
    // and outlives the call, which only reads it.
    unsafe { libc::if_nametoindex(c_name.as_ptr()) }
}

/// Takes ownership of `fd`, the result of a call that returns a new file
/// descriptor or -1; the `errno` on failure.
///
/// # Safety
///
/// `fd`, if not negative, is a descriptor the caller just received from
/// the kernel and that nothing else owns.
unsafe fn own_fd(fd: libc::c_long) -> Result<OwnedFd, i32> {
    if fd < 0 {
        return Err(errno());
    }
    let fd = libc::c_int::try_from(fd).map_err(|_| libc::EBADF)?;
    // SAFETY: the caller's contract: a new descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A region of memory mapped with `mmap`, unmapped when dropped.
///
/// The rings and the UMEM are mappings. Nothing hands out a reference
/// that outlives the `Mapping` it points into: ring entries are read and
/// written through raw pointers while the ring owns its mapping, and a
/// UMEM frame is lent as a slice borrowed from the [`Xsk`] that owns it.
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    /// `len` bytes of zeroed, private, anonymous memory, populated up
    /// front: the UMEM. Page-aligned, as `XDP_UMEM_REG` requires.
    pub(crate) fn anonymous(len: usize) -> Result<Mapping, i32> {
        // SAFETY: a new mapping at an address the kernel picks (null
        // hint) and backed by no file: it cannot overlap or change any
        // memory this program uses.
        let ptr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        Mapping::checked(ptr, len)
    }

    /// `len` bytes of the socket `fd`'s memory at `offset` (one of the
    /// `XDP_*PGOFF*` ring offsets), shared with the kernel.
    pub(crate) fn shared(fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping, i32> {
        let offset = libc::off_t::try_from(offset).map_err(|_| libc::EINVAL)?;
        // SAFETY: a new mapping at an address the kernel picks; the
        // kernel maps the ring of the socket there and checks that `len`
        // fits the ring. No existing memory changes.
        let ptr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd.as_raw_fd(),
                offset,
            )
        };
        Mapping::checked(ptr, len)
    }

    fn checked(ptr: *mut libc::c_void, len: usize) -> Result<Mapping, i32> {
        if ptr == libc::MAP_FAILED {
            return Err(errno());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(libc::EFAULT)?;
        Ok(Mapping { ptr, len })
    }

    /// The first byte.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr` and `len` are exactly a mapping made by this
        // value, unmapped once. No reference into it is alive: lent
        // frames borrow their `Xsk`, and rings drop their pointers with
        // their mapping.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

// SAFETY: the mapping is plain memory owned by this value alone; moving
// the owner to another thread moves nothing the kernel ties to a thread.
unsafe impl Send for Mapping {}

/// Reads socket option `option` of level `SOL_XDP`; returns it and the
/// length the kernel wrote (bytes past it stay zero).
///
/// # Safety
///
/// `T` is a C struct of integers only, so that any bytes, zero included,
/// are a valid `T`.
unsafe fn get_option<T>(fd: BorrowedFd<'_>, option: libc::c_int) -> Result<(T, usize), i32> {
    // SAFETY: the caller's contract: all zeros is a valid `T`.
    let mut value: T = unsafe { core::mem::zeroed() };
    let mut len = core::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` is a live, writable `T` of the length passed; the
    // kernel writes at most `len` bytes into it, which the caller's
    // contract makes a valid `T` whatever they are.
    let got = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_XDP,
            option,
            (&raw mut value).cast(),
            &mut len,
        )
    };
    if got < 0 {
        return Err(errno());
    }
    Ok((value, len as usize))
}

/// Sets ring-size socket option `option` (`XDP_RX_RING`, `XDP_TX_RING`,
/// `XDP_UMEM_FILL_RING`, `XDP_UMEM_COMPLETION_RING`) to `entries`.
fn set_ring_size(fd: BorrowedFd<'_>, option: libc::c_int, entries: u32) -> Result<(), i32> {
    // SAFETY: `entries` is a live u32 of the length passed, only read;
    // these options take a number and point the kernel at no memory.
    let set = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_XDP,
            option,
            (&raw const entries).cast(),
            core::mem::size_of::<u32>() as libc::socklen_t,
        )
    };
    if set < 0 {
        return Err(errno());
    }
    Ok(())
}

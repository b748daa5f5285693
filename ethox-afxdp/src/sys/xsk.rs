//! The AF_XDP socket with its UMEM and four rings.
//!
//! # Who owns a frame
//!
//! The UMEM is `count` frames of `frame_size` bytes. Each frame is at
//! any moment in exactly one place, recorded in [`Umem::owners`]:
//!
//! * **free** ([`Owner::Free`]): ours and on the free list, once;
//! * **ours, in use** ([`Owner::User`]): lent to the stack during a
//!   callback, or on its way between rings;
//! * **the kernel's, to receive into** ([`Owner::Fill`]): its address
//!   is on the fill ring, or the kernel took it from there, or wrote a
//!   frame into it and put it on the RX ring;
//! * **the kernel's, to send** ([`Owner::Tx`]): its descriptor is on the
//!   TX ring, or the kernel is sending it, or it sits on the completion
//!   ring.
//!
//! Only frames that are ours are ever turned into a Rust slice, and only
//! one at a time (the slice borrows the [`Xsk`] mutably). An address
//! comes back from the kernel (RX or completion ring) only if its frame
//! is in the state that ring returns; anything else is counted as an
//! invalid descriptor and ignored. So a frame lent to the stack can never
//! be one the kernel may write (it writes only frames it got from the
//! fill ring) or read (it reads only frames on the TX ring), whatever the
//! rings contain.
//!
//! # Drop order
//!
//! The fields of [`Xsk`] drop in declaration order: the ring mappings
//! first, then the socket (closing it unbinds it, so the kernel stops
//! writing into the UMEM, and the kernel unpins the UMEM pages when it
//! releases the socket), and the UMEM mapping last. The UMEM therefore
//! outlives the socket and its rings.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use super::ring::Ring;
use super::{Mapping, errno, get_option, own_fd, set_ring_size};

/// The room the kernel leaves in front of a received frame
/// (`XDP_PACKET_HEADROOM`): in aligned mode an RX descriptor's address
/// is the frame's start plus this much (plus the UMEM headroom, 0 here).
pub(crate) const XDP_PACKET_HEADROOM: u32 = 256;

/// Attempts to bind while the queue is still held by a socket that was
/// just closed (`EBUSY`), 50 ms apart.
const BIND_ATTEMPTS: u32 = 6;

/// How a set-up step failed: the step and its `errno`.
pub(crate) type SetupError = (&'static str, i32);

// The page offsets at which the socket maps each ring.
const FILL: u64 = libc::XDP_UMEM_PGOFF_FILL_RING;
const COMPLETION: u64 = libc::XDP_UMEM_PGOFF_COMPLETION_RING;
const RX: u64 = libc::XDP_PGOFF_RX_RING as u64;
const TX: u64 = libc::XDP_PGOFF_TX_RING as u64;

/// Maps a ring of the socket; `op` names it in errors.
fn map_ring<T: Copy>(
    fd: BorrowedFd<'_>,
    pgoff: u64,
    offsets: &libc::xdp_ring_offset,
    size: u32,
    op: &'static str,
) -> Result<Ring<T>, SetupError> {
    Ring::map(fd, pgoff, offsets, size).map_err(|errno| (op, errno))
}

/// Where a UMEM frame is; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Free,
    User,
    Fill,
    Tx,
}

/// The UMEM: the mapping, where each frame is, and the free frames.
struct Umem {
    map: Mapping,
    frame_size: u32,
    owners: Box<[Owner]>,
    /// The frames in the `Free` state. Its capacity is the frame count
    /// and a frame enters it only when it becomes `Free`, so pushing
    /// never allocates.
    free: Vec<u32>,
    in_fill: u32,
}

impl Umem {
    /// The frame holding UMEM address `addr`, and the offset in it.
    fn locate(&self, addr: u64) -> Option<(u32, u32)> {
        let frame_size = u64::from(self.frame_size);
        let index = u32::try_from(addr / frame_size).ok()?;
        if index as usize >= self.owners.len() {
            return None;
        }
        Some((index, (addr % frame_size) as u32))
    }

    /// Moves frame `index` from `from` to `to`; `false` (and no change)
    /// if it is not in `from`.
    fn transfer(&mut self, index: u32, from: Owner, to: Owner) -> bool {
        match self.owners.get_mut(index as usize) {
            Some(owner) if *owner == from => {
                *owner = to;
                if from == Owner::Fill {
                    self.in_fill -= 1;
                }
                if to == Owner::Fill {
                    self.in_fill += 1;
                }
                true
            }
            _ => false,
        }
    }

    /// Puts frame `index`, ours, on the free list.
    fn free(&mut self, index: u32) {
        if self.free.len() < self.free.capacity() && self.transfer(index, Owner::User, Owner::Free)
        {
            self.free.push(index);
        }
    }

    /// A frame off the free list, now ours to use.
    fn take(&mut self) -> Option<u32> {
        let index = self.free.pop()?;
        self.transfer(index, Owner::Free, Owner::User)
            .then_some(index)
    }
}

/// What the RX ring gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Received {
    /// A frame of `len` bytes at `offset` in UMEM frame `index`, now ours.
    Frame { index: u32, offset: u32, len: usize },
    /// A descriptor naming no frame the kernel held for receiving, or a
    /// length that does not fit its frame: ignored (its frame, if it was
    /// the kernel's, went back to the fill ring).
    Invalid,
}

/// How the socket was bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// `XDP_ZEROCOPY` was asked for and granted.
    ZeroCopy,
    /// `XDP_COPY`, as asked.
    Copy,
    /// Zero-copy was asked for and refused with this `errno`; bound in
    /// copy mode instead.
    CopyFallback(i32),
}

/// An AF_XDP socket bound to one queue of an interface, with its UMEM
/// and rings. Fields drop in declaration order (see the module docs).
pub(crate) struct Xsk {
    fill: Ring<u64>,
    completion: Ring<u64>,
    rx: Ring<libc::xdp_desc>,
    tx: Ring<libc::xdp_desc>,
    fd: OwnedFd,
    umem: Umem,
}

impl Xsk {
    /// Creates a socket with a UMEM of `count` frames of `frame_size`
    /// bytes and rings of `ring_size` entries (a power of two, at least
    /// `count`, so that no ring can overflow: each holds every frame),
    /// puts `fill` frames on the fill ring and binds to queue `queue` of
    /// interface `ifindex`, with `XDP_USE_NEED_WAKEUP`, in zero-copy mode
    /// if `zero_copy` (falling back to copy mode if refused) or in copy
    /// mode.
    pub(crate) fn open(
        ifindex: u32,
        queue: u32,
        count: u32,
        frame_size: u32,
        fill: u32,
        zero_copy: bool,
    ) -> Result<(Xsk, Bound), SetupError> {
        let ring_size = count
            .checked_next_power_of_two()
            .ok_or(("ring size", libc::EINVAL))?;
        let len = (count as usize)
            .checked_mul(frame_size as usize)
            .ok_or(("UMEM size", libc::EINVAL))?;
        // Declared before the socket: on an early return the socket closes
        // first and the UMEM is unmapped after it.
        let map = Mapping::anonymous(len).map_err(|errno| ("mmap of the UMEM", errno))?;
        let mut free = Vec::with_capacity(count as usize);
        free.extend((0..count).rev());
        let umem = Umem {
            map,
            frame_size,
            owners: vec![Owner::Free; count as usize].into_boxed_slice(),
            free,
            in_fill: 0,
        };
        // SAFETY: plain socket(2) call without pointers.
        let fd = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        // SAFETY: the result of socket(2): a new descriptor or -1.
        let fd = unsafe { own_fd(fd.into()) }.map_err(|errno| ("socket(AF_XDP)", errno))?;
        let socket = fd.as_fd();

        let registration = libc::xdp_umem_reg {
            addr: umem.map.as_ptr() as u64,
            len: len as u64,
            chunk_size: frame_size,
            // No headroom of our own.
            headroom: 0,
            // Aligned chunks: each frame starts at a multiple of the
            // frame size.
            flags: 0,
            tx_metadata_len: 0,
        };
        // SAFETY: the kernel pins the `len` bytes at `addr`, a mapping
        // that `umem` owns and that outlives the socket (declared first,
        // dropped last; see the module docs). From now on the kernel
        // writes into frames we give it on the fill ring and reads frames
        // we put on the TX ring, and never into other memory: the
        // `owners` states keep us from touching those frames meanwhile.
        let registered = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_XDP,
                libc::XDP_UMEM_REG,
                (&raw const registration).cast(),
                core::mem::size_of::<libc::xdp_umem_reg>() as libc::socklen_t,
            )
        };
        if registered < 0 {
            return Err(("XDP_UMEM_REG", errno()));
        }
        for (option, what) in [
            (libc::XDP_UMEM_FILL_RING, "XDP_UMEM_FILL_RING"),
            (libc::XDP_UMEM_COMPLETION_RING, "XDP_UMEM_COMPLETION_RING"),
            (libc::XDP_RX_RING, "XDP_RX_RING"),
            (libc::XDP_TX_RING, "XDP_TX_RING"),
        ] {
            set_ring_size(socket, option, ring_size).map_err(|errno| (what, errno))?;
        }
        // SAFETY: xdp_mmap_offsets is integers only.
        let (offsets, got) =
            unsafe { get_option::<libc::xdp_mmap_offsets>(socket, libc::XDP_MMAP_OFFSETS) }
                .map_err(|errno| ("XDP_MMAP_OFFSETS", errno))?;
        if got != core::mem::size_of::<libc::xdp_mmap_offsets>() {
            // Kernels before 5.4 have no ring flags, so no need_wakeup.
            return Err(("XDP_MMAP_OFFSETS without ring flags", libc::EOPNOTSUPP));
        }
        let fill_ring = map_ring(
            socket,
            FILL,
            &offsets.fr,
            ring_size,
            "mmap of the fill ring",
        )?;
        let completion = map_ring(
            socket,
            COMPLETION,
            &offsets.cr,
            ring_size,
            "mmap of the completion ring",
        )?;
        let rx = map_ring(socket, RX, &offsets.rx, ring_size, "mmap of the RX ring")?;
        let tx = map_ring(socket, TX, &offsets.tx, ring_size, "mmap of the TX ring")?;
        let mut xsk = Xsk {
            fill: fill_ring,
            completion,
            rx,
            tx,
            fd,
            umem,
        };
        xsk.fill_to(fill);
        let bound = xsk.bind(ifindex, queue, zero_copy)?;
        Ok((xsk, bound))
    }

    /// Binds to the queue, retrying while it is busy (its previous
    /// socket was just closed) and falling back from zero-copy to copy
    /// mode when the driver refuses zero-copy.
    fn bind(&self, ifindex: u32, queue: u32, zero_copy: bool) -> Result<Bound, SetupError> {
        let bind = |mode: u16| {
            let address = libc::sockaddr_xdp {
                sxdp_family: libc::AF_XDP as u16,
                sxdp_flags: mode | libc::XDP_USE_NEED_WAKEUP,
                sxdp_ifindex: ifindex,
                sxdp_queue_id: queue,
                // For XDP_SHARED_UMEM only.
                sxdp_shared_umem_fd: 0,
            };
            let mut attempt = 0;
            loop {
                // SAFETY: `address` is a sockaddr_xdp of the length
                // passed, live for the call and only read.
                let bound = unsafe {
                    libc::bind(
                        self.fd.as_raw_fd(),
                        (&raw const address).cast(),
                        core::mem::size_of::<libc::sockaddr_xdp>() as libc::socklen_t,
                    )
                };
                if bound == 0 {
                    return Ok(());
                }
                let errno = errno();
                attempt += 1;
                if errno != libc::EBUSY || attempt >= BIND_ATTEMPTS {
                    return Err(errno);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        };
        if zero_copy {
            match bind(libc::XDP_ZEROCOPY) {
                Ok(()) => return Ok(Bound::ZeroCopy),
                // The driver has no zero-copy support (veth: EOPNOTSUPP)
                // or not for this queue: copy mode still works.
                Err(errno @ (libc::EOPNOTSUPP | libc::EINVAL)) => {
                    return bind(libc::XDP_COPY)
                        .map(|()| Bound::CopyFallback(errno))
                        .map_err(|errno| ("bind", errno));
                }
                Err(errno) => return Err(("bind", errno)),
            }
        }
        bind(libc::XDP_COPY)
            .map(|()| Bound::Copy)
            .map_err(|errno| ("bind", errno))
    }

    /// The socket.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Bytes per frame.
    pub(crate) fn frame_size(&self) -> u32 {
        self.umem.frame_size
    }

    /// Frames in the UMEM.
    pub(crate) fn frame_count(&self) -> u32 {
        self.umem.owners.len() as u32
    }

    /// Entries per ring.
    pub(crate) fn ring_size(&self) -> u32 {
        self.rx.size()
    }

    /// Free frames (ours, unused).
    pub(crate) fn free_frames(&self) -> usize {
        self.umem.free.len()
    }

    /// Frames on the fill ring (or taken from it by the kernel).
    pub(crate) fn fill_level(&self) -> u32 {
        self.umem.in_fill
    }

    /// Whether the socket is in zero-copy mode (`XDP_OPTIONS`).
    pub(crate) fn is_zero_copy(&self) -> bool {
        // SAFETY: xdp_options is one u32.
        unsafe { get_option::<libc::xdp_options>(self.fd(), libc::XDP_OPTIONS) }
            .is_ok_and(|(options, _)| options.flags & libc::XDP_OPTIONS_ZEROCOPY != 0)
    }

    /// The kernel's counters of the socket (`XDP_STATISTICS`); zeros for
    /// counters an older kernel does not report.
    pub(crate) fn kernel_stats(&self) -> Result<libc::xdp_statistics, i32> {
        // SAFETY: xdp_statistics is integers only.
        unsafe { get_option::<libc::xdp_statistics>(self.fd(), libc::XDP_STATISTICS) }
            .map(|(stats, _)| stats)
    }

    /// Tops the fill ring up to `target` frames from the free list and
    /// publishes it; returns `false` if the free list ran out first.
    pub(crate) fn fill_to(&mut self, target: u32) -> bool {
        let mut pushed = false;
        while self.umem.in_fill < target {
            let Some(index) = self.umem.take() else {
                break;
            };
            if !self.recycle(index) {
                break;
            }
            pushed = true;
        }
        if pushed {
            self.fill.submit();
        }
        self.umem.in_fill >= target
    }

    /// Takes the completion ring's frames back onto the free list;
    /// returns how many, and how many entries named no frame being sent.
    pub(crate) fn reap_completions(&mut self) -> (u32, u32) {
        let (mut done, mut invalid) = (0, 0);
        while let Some(addr) = self.completion.pop() {
            match self.umem.locate(addr) {
                Some((index, _)) if self.umem.transfer(index, Owner::Tx, Owner::User) => {
                    self.umem.free(index);
                    done += 1;
                }
                _ => invalid += 1,
            }
        }
        if done + invalid > 0 {
            self.completion.release();
        }
        (done, invalid)
    }

    /// Frames waiting on the RX ring.
    pub(crate) fn rx_ready(&mut self) -> u32 {
        self.rx.ready()
    }

    /// Takes the next received frame off the RX ring; it is ours until
    /// handed back with [`recycle`](Self::recycle) or
    /// [`transmit`](Self::transmit).
    pub(crate) fn receive(&mut self) -> Option<Received> {
        let desc = self.rx.pop()?;
        let Some((index, offset)) = self.umem.locate(desc.addr) else {
            return Some(Received::Invalid);
        };
        if !self.umem.transfer(index, Owner::Fill, Owner::User) {
            return Some(Received::Invalid);
        }
        let len = desc.len as usize;
        if len == 0 || offset as usize + len > self.umem.frame_size as usize {
            self.recycle(index);
            return Some(Received::Invalid);
        }
        Some(Received::Frame { index, offset, len })
    }

    /// Frame `index`, ours, from `offset` to its end; `None` if the frame
    /// is not ours (or out of range).
    pub(crate) fn frame(&mut self, index: u32, offset: u32) -> Option<&mut [u8]> {
        if self.umem.owners.get(index as usize) != Some(&Owner::User)
            || offset >= self.umem.frame_size
        {
            return None;
        }
        let frame_size = self.umem.frame_size as usize;
        let start = index as usize * frame_size + offset as usize;
        let len = frame_size - offset as usize;
        if start + len > self.umem.map.len() {
            return None;
        }
        // SAFETY: the bytes lie inside the UMEM mapping (checked above),
        // which lives as long as `self`. The frame is ours (`User`): it is
        // on no ring the kernel reads or writes, and the kernel touches
        // no UMEM frame but those (module docs). The slice borrows `self`
        // mutably, so no second slice of any frame exists meanwhile, and
        // the frame cannot be handed to the kernel until it ends.
        Some(unsafe { core::slice::from_raw_parts_mut(self.umem.map.as_ptr().add(start), len) })
    }

    /// Gives frame `index`, ours, to the fill ring (all of it: the
    /// kernel writes at its own offset); published with
    /// [`finish_rx`](Self::finish_rx). On a full ring (impossible: each
    /// ring holds every frame) it goes to the free list: `false`.
    pub(crate) fn recycle(&mut self, index: u32) -> bool {
        let addr = u64::from(index) * u64::from(self.umem.frame_size);
        let pushed =
            self.umem.owners.get(index as usize) == Some(&Owner::User) && self.fill.push(addr);
        if pushed {
            self.umem.transfer(index, Owner::User, Owner::Fill);
        } else {
            self.umem.free(index);
        }
        pushed
    }

    /// A free frame, now ours to fill; `None` if all are in use.
    pub(crate) fn take_free(&mut self) -> Option<u32> {
        self.umem.take()
    }

    /// Puts frame `index`, ours and unused, back on the free list.
    pub(crate) fn release(&mut self, index: u32) {
        self.umem.free(index);
    }

    /// Queues `len` bytes at `offset` of frame `index`, ours, on the TX
    /// ring; published with [`flush_tx`](Self::flush_tx). A descriptor
    /// the kernel would refuse (empty, or crossing the frame's end) is
    /// not queued and the frame goes to the free list: `false`.
    pub(crate) fn transmit(&mut self, index: u32, offset: u32, len: usize) -> bool {
        let fits = len > 0 && offset as usize + len <= self.umem.frame_size as usize;
        let desc = libc::xdp_desc {
            addr: u64::from(index) * u64::from(self.umem.frame_size) + u64::from(offset),
            len: len as u32,
            options: 0,
        };
        let queued = fits
            && self.umem.owners.get(index as usize) == Some(&Owner::User)
            && self.tx.push(desc);
        if queued {
            self.umem.transfer(index, Owner::User, Owner::Tx);
        } else {
            self.umem.free(index);
        }
        queued
    }

    /// Hands the RX ring's taken slots back to the kernel and publishes
    /// the fill ring; wakes the kernel if it asks for fill frames.
    pub(crate) fn finish_rx(&mut self) {
        self.rx.release();
        self.fill.submit();
        if self.fill.needs_wakeup() {
            // SAFETY: a zero-length receive into no buffer: the kernel
            // writes nothing; for AF_XDP it is the fill ring's wake-up.
            // Its result does not matter (nothing can be received).
            unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    core::ptr::null_mut(),
                    0,
                    libc::MSG_DONTWAIT,
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                )
            };
        }
    }

    /// TX descriptors the kernel has not taken yet.
    pub(crate) fn tx_unconsumed(&self) -> u32 {
        self.tx.unconsumed()
    }

    /// Publishes the TX ring and, when the kernel asks for it, kicks it
    /// with `sendto` until it took every descriptor (in copy mode each
    /// call sends a bounded batch and says `EAGAIN` for more), at most a
    /// ring's worth of tries. Returns the number of kicks and the
    /// `errno` of a kick that failed for good (link down, unbound).
    pub(crate) fn flush_tx(&mut self) -> (u32, Option<i32>) {
        self.tx.submit();
        let mut kicks = 0;
        let tries = self.tx.size() / 16 + 2;
        while kicks < tries && self.tx.unconsumed() > 0 && self.tx.needs_wakeup() {
            // SAFETY: a zero-length send of no buffer to no address: the
            // kernel reads nothing of ours; for AF_XDP it is the TX
            // wake-up, which sends from the TX ring.
            let sent = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    core::ptr::null(),
                    0,
                    libc::MSG_DONTWAIT,
                    core::ptr::null(),
                    0,
                )
            };
            kicks += 1;
            if sent >= 0 {
                // Copy mode sent everything; zero-copy started the driver.
                break;
            }
            match errno() {
                // A batch's budget used up, the completion ring or memory
                // short for a moment, a signal: kick again.
                libc::EAGAIN | libc::EBUSY | libc::ENOBUFS | libc::EINTR => {}
                errno => return (kicks, Some(errno)),
            }
        }
        (kicks, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn umem(count: u32, frame_size: u32) -> Umem {
        Umem {
            map: Mapping::anonymous((count * frame_size) as usize).unwrap(),
            frame_size,
            owners: vec![Owner::Free; count as usize].into_boxed_slice(),
            free: (0..count).collect(),
            in_fill: 0,
        }
    }

    #[test]
    fn addresses_locate_frames_and_offsets() {
        let umem = umem(4, 2048);
        assert_eq!(umem.locate(0), Some((0, 0)));
        assert_eq!(umem.locate(2048 + 256), Some((1, 256)));
        assert_eq!(umem.locate(4 * 2048 - 1), Some((3, 2047)));
        assert_eq!(umem.locate(4 * 2048), None);
        assert_eq!(umem.locate(u64::MAX), None);
    }

    #[test]
    fn frames_move_only_from_the_state_they_are_in() {
        let mut umem = umem(2, 2048);
        let first = umem.take().unwrap();
        assert!(umem.transfer(first, Owner::User, Owner::Fill));
        assert_eq!(umem.in_fill, 1);
        // The kernel cannot "complete" a frame it was given to fill.
        assert!(!umem.transfer(first, Owner::Tx, Owner::User));
        // Nor hand back a frame twice.
        assert!(umem.transfer(first, Owner::Fill, Owner::User));
        assert!(!umem.transfer(first, Owner::Fill, Owner::User));
        assert_eq!(umem.in_fill, 0);
        assert!(!umem.transfer(7, Owner::User, Owner::Fill));
        // Only frames in use go on the free list, once, and it never
        // grows past the frame count.
        let second = umem.take().unwrap();
        assert!(umem.take().is_none());
        umem.transfer(second, Owner::User, Owner::Tx);
        umem.free(second);
        assert!(umem.free.is_empty());
        umem.free(first);
        umem.free(first);
        assert_eq!(umem.free, [first]);
    }
}

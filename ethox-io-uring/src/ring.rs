//! The one module with `unsafe` code: the io_uring instance, the memory
//! the kernel reads and writes (the packet buffers, the provided-buffer
//! ring, the receive message headers), and the rule that keeps the kernel
//! and the stack apart.
//!
//! The rule: every buffer (a *slot*) has one owner, the device or the
//! kernel ([`Owner`]). A slot passes to the kernel when an operation that
//! names it is pushed (a receive, a send) or when it is put in the
//! provided-buffer ring, and comes back only with the completion that
//! names it, checked against the owner the ring recorded. Only slots the
//! device owns are ever turned into slices ([`Ring::parts`]), so the stack
//! never sees a buffer the kernel may still write, and nothing here hands
//! the kernel a buffer the stack holds.
//!
//! The memory outlives every operation: [`Ring`]'s `Drop` cancels what is
//! in flight and waits for the last completion before it frees anything;
//! when the kernel does not finish in time the memory is leaked instead
//! (see `Drop for Ring`).

use core::cell::Cell;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU16, Ordering};
use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use ethox::nic::sys::VNET_HEADER_LEN;
use io_uring::types::{CancelBuilder, Fd, Fixed, SubmitArgs, Timespec};
use io_uring::{IoUring, Probe, cqueue, opcode, squeue};

use crate::{Error, Medium};

/// Room for the control messages of one frame from a packet socket: the
/// `PACKET_AUXDATA` message takes 40 bytes on 64-bit Linux.
pub(crate) const CONTROL_LEN: usize = 64;

/// The `io_uring_recvmsg_out` header (name, control and payload lengths,
/// flags: four `u32`) that a multishot `recvmsg` writes at the start of
/// each buffer, before the control messages and the frame.
pub(crate) const RECVMSG_OUT_LEN: usize = 16;

/// The most buffers: buffer ids are 16 bits and a provided-buffer ring
/// holds at most 32768 entries.
pub(crate) const MAX_BUFFERS: usize = 32_768;

/// The provided-buffer group of the multishot receive.
const BUF_GROUP: u16 = 0;

/// The largest buffer the kernel registers in one piece.
const MAX_REGISTERED: usize = 1 << 30;

/// Alignment of every region: pages, as the provided-buffer ring needs.
const PAGE: usize = 4096;

/// Completions taken off the completion queue at a time.
const BATCH: usize = 64;

/// How long `Drop` waits for the kernel to finish what was in flight
/// before it leaks the memory instead of freeing it.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// What an operation's `user_data` says, in its top byte; the low 16 bits
/// carry the slot.
const RECV: u64 = 1;
const MULTI: u64 = 2;
const SEND: u64 = 3;
const CANCEL: u64 = 4;

fn user_data(kind: u64, slot: u16) -> u64 {
    (kind << 56) | u64::from(slot)
}

/// Where a slot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The device's: free, waiting to be lent, lent, or queued to send.
    Device,
    /// Named by a single-shot receive in flight.
    Recv,
    /// In the provided-buffer ring, or taken from it by the multishot
    /// receive and not yet completed.
    Provided,
    /// Named by a send in flight.
    Send,
}

/// The sizes of the slots: each holds `headroom` bytes (where a packet
/// socket's receive puts its header and control messages, or a TAP with
/// offloads its virtio-net header) and then a frame of up to `capacity`
/// bytes and one byte more; slots are `stride` bytes apart.
///
/// The byte more is for reads: a TAP read into a short buffer returns the
/// bytes that fit, not the frame's length, so a frame of exactly the
/// buffer's size would be indistinguishable from a longer one cut short.
/// Reads ask for `capacity + 1` bytes; a result above `capacity` is a
/// frame too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub count: usize,
    pub capacity: usize,
    pub headroom: usize,
    /// The last bytes of the headroom, right before the frame, that hold
    /// its virtio-net header (0: frames carry none).
    pub vnet: usize,
    pub stride: usize,
}

impl Shape {
    /// `count` slots for frames of `capacity` bytes on `medium` (behind a
    /// virtio-net header if `vnet_header`), each starting on a 64-byte
    /// boundary.
    pub fn new(medium: Medium, count: usize, capacity: usize, vnet_header: bool) -> Shape {
        let vnet = if vnet_header { VNET_HEADER_LEN } else { 0 };
        let headroom = vnet
            + match medium {
                Medium::Tap => 0,
                Medium::Packet => RECVMSG_OUT_LEN + CONTROL_LEN,
            };
        Shape {
            count,
            capacity,
            headroom,
            vnet,
            stride: (headroom + capacity + 1).next_multiple_of(64),
        }
    }
}

/// What a completion said, for the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Completion {
    /// A frame arrived in `slot`: `len` bytes on the wire (more than the
    /// buffer holds if `truncated`) and `control_len` bytes of control
    /// messages.
    Received {
        slot: u16,
        len: usize,
        truncated: bool,
        control_len: usize,
    },
    /// A receive gave `slot` back without a frame, with `errno` (0: an
    /// empty read).
    Empty { slot: u16, errno: i32 },
    /// A send from `slot` finished with `result` (bytes or `-errno`).
    Sent { slot: u16, result: i32 },
    /// The multishot receive stopped, with `errno` (0 if it just ended):
    /// re-arm it.
    MultishotEnded { errno: i32 },
    /// Nothing for the device (a cancellation's result).
    Other,
    /// A completion naming a buffer not in the kernel's hands, or an
    /// unknown operation: ignored, counted.
    Bogus,
}

/// A receive's message header, one per slot on a packet socket (for
/// single-shot `recvmsg`), plus one template for the multishot receive.
#[repr(C)]
struct RecvHeader {
    msg: libc::msghdr,
    iov: libc::iovec,
}

/// An entry of the provided-buffer ring, as the kernel lays it out
/// (`struct io_uring_buf`); `resv` of entry 0 is the ring's tail.
#[repr(C)]
struct BufEntry {
    addr: u64,
    len: u32,
    bid: u16,
    resv: u16,
}

/// Zeroed memory mapped for the device alone (anonymous, private), unmapped
/// on drop (or leaked with `ManuallyDrop`). Mappings rather than the heap:
/// page-aligned as the buffer ring needs, never shared with the
/// allocator's other blocks, and a leaked mapping is just address space.
struct Region {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a region is plain bytes owned by whoever holds it; the raw
// pointer is only its address.
unsafe impl Send for Region {}

impl Region {
    /// `len` zeroed bytes (rounded up to pages), or `None` if the system
    /// has no memory for them.
    fn zeroed(len: usize) -> Option<Region> {
        let len = len.max(1).checked_next_multiple_of(PAGE)?;
        // SAFETY: an anonymous private mapping of `len` bytes at an address
        // of the kernel's choice: it touches no existing memory.
        let ptr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        Some(Region {
            ptr: NonNull::new(ptr.cast())?,
            len,
        })
    }

    fn base(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: mapped in `zeroed` with this length, unmapped once; no
        // slice of it outlives the region (they borrow the ring).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// Everything the kernel may read or write while operations are in
/// flight.
struct Memory {
    /// The slots.
    buffers: Region,
    /// The provided-buffer ring (multishot only).
    buf_ring: Option<Region>,
    /// `count + 1` receive headers (packet sockets only).
    headers: Option<Region>,
}

/// How set-up should receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Multishot where the kernel has it.
    Auto,
    /// Multishot or an error.
    Multishot,
    /// Single-shot receives only.
    SingleShot,
}

/// Counters the ring keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RingCounters {
    /// `io_uring_enter` calls.
    pub enters: u64,
    /// Times the multishot receive was armed.
    pub arms: u64,
    /// Completions ignored as bogus.
    pub bogus: u64,
}

/// An io_uring instance over one file descriptor, with its buffers.
pub(crate) struct Ring {
    uring: ManuallyDrop<IoUring>,
    memory: ManuallyDrop<Memory>,
    medium: Medium,
    /// The descriptor, which the caller keeps open while the ring lives.
    fd: RawFd,
    shape: Shape,
    owners: Box<[Owner]>,
    /// Operations pushed whose last completion has not been seen.
    outstanding: usize,
    /// Slots per registered buffer; 0 if the buffers are not registered.
    slots_per_chunk: usize,
    /// Receiving through the multishot operation and the buffer ring.
    multishot: bool,
    /// The multishot receive is in flight.
    armed: bool,
    /// The multishot receive delivered a frame since it was last armed.
    delivered: bool,
    ring_mask: u16,
    ring_tail: u16,
    tail_dirty: bool,
    /// Slots in the buffer ring.
    provided: usize,
    /// Slots named by single-shot receives in flight.
    receiving: usize,
    batch: [(u64, i32, u32); BATCH],
    batch_len: usize,
    batch_at: usize,
    /// A multishot end to report after the frame that came with it.
    pending_end: Option<i32>,
    counters: RingCounters,
    /// The completion queue is read through `&self` in `wait`: not `Sync`.
    _not_sync: PhantomData<Cell<()>>,
}

impl Ring {
    /// A ring over `fd` with `shape.count` slots, receiving as `want`
    /// says, with the buffers registered if `register` and the kernel
    /// lets it (it may refuse over the locked-memory limit), usable from
    /// the creating thread only if `single_thread`.
    ///
    /// `fd` must stay open while the ring lives; it is registered, so the
    /// kernel holds its own reference.
    pub fn new(
        fd: RawFd,
        medium: Medium,
        shape: Shape,
        want: Want,
        register: bool,
        single_thread: bool,
    ) -> Result<Ring, Error> {
        if shape.count == 0 || shape.count > MAX_BUFFERS {
            return Err(Error::BadConfiguration {
                what: "the buffer count must be 1 to 32768",
            });
        }
        let sq = shape.count.next_power_of_two().clamp(8, 4096) as u32;
        let cq = (shape.count.next_power_of_two() * 2).clamp(2 * sq as usize, 65_536) as u32;
        let mut builder = IoUring::builder();
        builder.setup_cqsize(cq).setup_clamp().setup_taskrun_flag();
        if single_thread {
            // Deferred task running (6.1): finished operations post their
            // completions only when this thread asks, in one batch, and
            // never interrupt it; only the creating thread may use the
            // ring.
            builder.setup_single_issuer().setup_defer_taskrun();
        } else {
            // Cooperative task running (5.19): completions are run at our
            // next system call instead of interrupting us.
            builder.setup_coop_taskrun();
        }
        let uring = builder
            .build(sq)
            .or_else(|err| match err.raw_os_error() {
                // An older kernel: none of these flags.
                Some(libc::EINVAL) => IoUring::builder().setup_cqsize(cq).setup_clamp().build(sq),
                _ => Err(err),
            })
            .map_err(|err| Error::from_setup(err.raw_os_error().unwrap_or(0)))?;
        let mut probe = Probe::new();
        uring
            .submitter()
            .register_probe(&mut probe)
            .map_err(|_| Error::Unsupported {
                what: "the opcode probe (IORING_REGISTER_PROBE)",
            })?;
        if !probe.is_supported(opcode::AsyncCancel2::CODE)
            || !probe.is_supported(opcode::Socket::CODE)
        {
            return Err(Error::Unsupported {
                what: "the operations of Linux 5.19 (cancel any)",
            });
        }
        if !uring.params().is_feature_ext_arg() {
            return Err(Error::Unsupported {
                what: "waits with a timeout (IORING_FEAT_EXT_ARG)",
            });
        }
        uring
            .submitter()
            .register_files(&[fd])
            .map_err(|err| io_error("io_uring_register files", &err))?;
        let no_memory = Error::io("allocating the packet buffers", libc::ENOMEM);
        let bytes = shape.count.checked_mul(shape.stride).ok_or(no_memory)?;
        let buffers = Region::zeroed(bytes).ok_or(no_memory)?;
        let headers = match medium {
            Medium::Tap => None,
            Medium::Packet => Some(
                Region::zeroed((shape.count + 1) * core::mem::size_of::<RecvHeader>())
                    .ok_or(no_memory)?,
            ),
        };
        let supported = match medium {
            Medium::Tap => probe.is_supported(opcode::ReadMulti::CODE),
            // Multishot recvmsg came with Linux 6.0, as did zero-copy
            // send, which the probe shows.
            Medium::Packet => probe.is_supported(opcode::SendZc::CODE),
        };
        if want == Want::Multishot && !supported {
            return Err(Error::Unsupported {
                what: "multishot receive on this kind of file",
            });
        }
        let ring_entries = shape.count.next_power_of_two();
        let mut ring = Ring {
            uring: ManuallyDrop::new(uring),
            memory: ManuallyDrop::new(Memory {
                buffers,
                buf_ring: None,
                headers,
            }),
            medium,
            fd,
            shape,
            owners: vec![Owner::Device; shape.count].into_boxed_slice(),
            outstanding: 0,
            slots_per_chunk: 0,
            multishot: false,
            armed: false,
            delivered: false,
            ring_mask: (ring_entries - 1) as u16,
            ring_tail: 0,
            tail_dirty: false,
            provided: 0,
            receiving: 0,
            batch: [(0, 0, 0); BATCH],
            batch_len: 0,
            batch_at: 0,
            pending_end: None,
            counters: RingCounters::default(),
            _not_sync: PhantomData,
        };
        if register {
            ring.register_buffers();
        }
        ring.write_template();
        if want != Want::SingleShot && supported {
            let registered = ring.register_buf_ring(ring_entries);
            if want == Want::Multishot {
                registered?;
            }
        }
        Ok(ring)
    }

    /// Registers the slots as fixed buffers, in pieces of at most 1 GiB;
    /// leaves them unregistered if the kernel refuses.
    fn register_buffers(&mut self) {
        let per_chunk = (MAX_REGISTERED / self.shape.stride).max(1);
        let mut iovecs = Vec::new();
        let mut first = 0;
        while first < self.shape.count {
            let slots = per_chunk.min(self.shape.count - first);
            iovecs.push(libc::iovec {
                // SAFETY: `first` is below `count`, so the offset is inside
                // the buffers region of `count * stride` bytes.
                iov_base: unsafe { self.slot_base(first as u16) }.cast(),
                iov_len: slots * self.shape.stride,
            });
            first += slots;
        }
        // SAFETY: the iovecs cover the buffers region, which stays
        // allocated while the ring exists (`Drop` drops the ring first, or
        // leaks the memory).
        if unsafe { self.uring.submitter().register_buffers(&iovecs) }.is_ok() {
            self.slots_per_chunk = per_chunk;
        }
    }

    /// Sets up the multishot receive's message header: no address, room
    /// for the control messages.
    fn write_template(&mut self) {
        let Some(header) = self.header(self.shape.count) else {
            return;
        };
        // SAFETY: the header lies inside the headers region (index
        // `count` of `count + 1`), which no operation uses yet; the
        // template is written once, before any receive is armed.
        unsafe {
            (*header).msg.msg_controllen = CONTROL_LEN as _;
        }
    }

    /// Allocates and registers the provided-buffer ring of `entries`
    /// entries.
    fn register_buf_ring(&mut self, entries: usize) -> Result<(), Error> {
        let region = Region::zeroed(entries * core::mem::size_of::<BufEntry>())
            .ok_or(Error::io("allocating the buffer ring", libc::ENOMEM))?;
        let address = region.base() as u64;
        // The region is kept before it is registered, so that it outlives
        // the registration whatever happens next.
        self.memory.buf_ring = Some(region);
        // SAFETY: the ring memory holds `entries` entries, is page-aligned
        // and stays allocated while the ring exists (freed after it, or
        // leaked).
        let registered = unsafe {
            self.uring.submitter().register_buf_ring_with_flags(
                address,
                entries as u16,
                BUF_GROUP,
                0,
            )
        };
        match registered {
            Ok(()) => {
                self.multishot = true;
                Ok(())
            }
            Err(err) => Err(Error::Unsupported {
                what: match err.raw_os_error() {
                    Some(libc::EINVAL) => "provided-buffer rings (IORING_REGISTER_PBUF_RING)",
                    _ => "a provided-buffer ring of this size",
                },
            }),
        }
    }

    /// Whether receives are multishot.
    pub fn multishot(&self) -> bool {
        self.multishot
    }

    /// Whether the multishot receive is in flight.
    pub fn armed(&self) -> bool {
        self.armed
    }

    /// Whether the multishot receive delivered a frame since it was last
    /// armed.
    pub fn delivered(&self) -> bool {
        self.delivered
    }

    /// Whether the slots are registered buffers.
    pub fn registered(&self) -> bool {
        self.slots_per_chunk != 0
    }

    /// Slots in the provided-buffer ring.
    pub fn provided(&self) -> usize {
        self.provided
    }

    /// Slots named by single-shot receives in flight.
    pub fn receiving(&self) -> usize {
        self.receiving
    }

    /// Operations in flight.
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    pub fn counters(&self) -> RingCounters {
        self.counters
    }

    /// The start of `slot`.
    ///
    /// # Safety
    ///
    /// `slot` must be below `shape.count`.
    unsafe fn slot_base(&self, slot: u16) -> *mut u8 {
        // SAFETY: the caller's promise keeps the offset inside the buffers
        // region of `count * stride` bytes.
        unsafe {
            self.memory
                .buffers
                .base()
                .add(usize::from(slot) * self.shape.stride)
        }
    }

    /// Receive header `index` (0 to `count`), on a packet socket.
    fn header(&self, index: usize) -> Option<*mut RecvHeader> {
        let headers = self.memory.headers.as_ref()?;
        if index > self.shape.count {
            return None;
        }
        // SAFETY: the region holds `count + 1` headers, so `index` is in it.
        Some(unsafe { headers.base().cast::<RecvHeader>().add(index) })
    }

    fn owner(&self, slot: u16) -> Option<Owner> {
        self.owners.get(usize::from(slot)).copied()
    }

    /// The control-message bytes (the first `control_len`, at most
    /// [`CONTROL_LEN`]) and the frame area of `slot`, if the device owns
    /// it.
    pub fn parts(&mut self, slot: u16, control_len: usize) -> Option<(&[u8], &mut [u8])> {
        if self.owner(slot)? != Owner::Device {
            return None;
        }
        let Shape {
            headroom, capacity, ..
        } = self.shape;
        // SAFETY: the slot is below `count` (it has an owner) and its
        // `headroom + capacity <= stride` bytes lie in the buffers region.
        // The device owns it: no operation in flight names it and it is
        // not in the buffer ring, so the kernel does not touch it while
        // the slice lives (it borrows `self`, so nothing can hand the slot
        // to the kernel meanwhile).
        let bytes =
            unsafe { core::slice::from_raw_parts_mut(self.slot_base(slot), headroom + capacity) };
        let (head, frame) = bytes.split_at_mut(headroom);
        let control = match self.medium {
            Medium::Tap => &[],
            Medium::Packet => match head.get(RECVMSG_OUT_LEN..) {
                Some(control) => &control[..control_len.min(control.len())],
                None => &[],
            },
        };
        Some((control, frame))
    }

    /// The virtio-net header before `slot`'s frame, if frames carry one
    /// and the device owns the slot.
    pub fn vnet_header(&self, slot: u16) -> Option<[u8; VNET_HEADER_LEN]> {
        if self.shape.vnet != VNET_HEADER_LEN || self.owner(slot)? != Owner::Device {
            return None;
        }
        let at = self.shape.headroom - VNET_HEADER_LEN;
        let mut header = [0; VNET_HEADER_LEN];
        // SAFETY: the slot is below `count` (it has an owner) and its
        // headroom lies in the buffers region; the device owns it, so the
        // kernel does not write it now. Read as bytes, into a copy.
        unsafe {
            core::ptr::copy_nonoverlapping(
                self.slot_base(slot).add(at),
                header.as_mut_ptr(),
                VNET_HEADER_LEN,
            );
        }
        Some(header)
    }

    /// Pushes `entry`, which names memory of this ring.
    ///
    /// # Safety
    ///
    /// Every pointer in `entry` points into this ring's memory (the
    /// buffers, the headers), to bytes no slice given out by
    /// [`parts`](Self::parts) covers until the completion that ends the
    /// operation: the caller records the slot as the kernel's when this
    /// returns `true`.
    unsafe fn push(&mut self, entry: &squeue::Entry) -> bool {
        let mut queue = self.uring.submission();
        // SAFETY: the caller's promise: the memory stays valid (the ring
        // frees it only after the last completion, or leaks it) and the
        // device does not touch it until the operation completes.
        let pushed = unsafe { queue.push(entry) }.is_ok();
        if pushed {
            self.outstanding += 1;
        }
        pushed
    }

    /// Whether the submission queue has room for `n` more entries.
    pub fn room(&mut self, n: usize) -> bool {
        let queue = self.uring.submission();
        queue.capacity() - queue.len() >= n
    }

    /// Starts a single-shot receive into `slot`; `false` if the device
    /// does not own it or the submission queue is full.
    pub fn receive(&mut self, slot: u16) -> bool {
        if self.owner(slot) != Some(Owner::Device) {
            return false;
        }
        let Shape {
            headroom, capacity, ..
        } = self.shape;
        // SAFETY: the device owns the slot, which is below `count`.
        let base = unsafe { self.slot_base(slot) };
        // SAFETY: `headroom <= stride` and `vnet <= headroom`: the
        // virtio-net header (if any) and the frame area start inside the
        // slot.
        let start = unsafe { base.add(headroom - self.shape.vnet) };
        let entry = match self.medium {
            // The header (if any) and the frame, in one read from the
            // slot's start, as the multishot read puts them.
            Medium::Tap => {
                let len = (headroom + capacity + 1) as u32;
                match self.chunk(slot) {
                    Some(index) => opcode::ReadFixed::new(Fixed(0), base, len, index).build(),
                    None => opcode::Read::new(Fixed(0), base, len).build(),
                }
            }
            Medium::Packet => {
                let Some(header) = self.header(usize::from(slot)) else {
                    return false;
                };
                // SAFETY: the header belongs to this slot, which the
                // device owns: no receive in flight reads or writes it.
                // The control area lies in the slot's headroom; it is
                // cleared so that a frame without control messages cannot
                // be read with an earlier frame's.
                unsafe {
                    core::ptr::write_bytes(base.add(RECVMSG_OUT_LEN), 0, CONTROL_LEN);
                    // The payload: the virtio-net header (if any) and the
                    // frame, where the multishot receive puts them too.
                    (*header).iov = libc::iovec {
                        iov_base: start.cast(),
                        iov_len: self.shape.vnet + capacity,
                    };
                    let msg = &mut (*header).msg;
                    msg.msg_name = core::ptr::null_mut();
                    msg.msg_namelen = 0;
                    msg.msg_iov = &raw mut (*header).iov;
                    msg.msg_iovlen = 1;
                    msg.msg_control = base.add(RECVMSG_OUT_LEN).cast();
                    msg.msg_controllen = CONTROL_LEN as _;
                    msg.msg_flags = 0;
                }
                // `msg` is the first field of the `repr(C)` header.
                opcode::RecvMsg::new(Fixed(0), header.cast::<libc::msghdr>())
                    .flags(libc::MSG_TRUNC as u32)
                    .build()
            }
        };
        let entry = entry.user_data(user_data(RECV, slot));
        // SAFETY: the entry names the slot's frame area (`capacity + 1`
        // bytes, which `stride` leaves room for) and, on a packet socket,
        // its header and control area; the slot is recorded as the
        // kernel's right after.
        if !unsafe { self.push(&entry) } {
            return false;
        }
        self.owners[usize::from(slot)] = Owner::Recv;
        self.receiving += 1;
        true
    }

    /// Puts `slot` in the provided-buffer ring (published by the next
    /// [`submit`](Self::submit)); `false` if not multishot or the device
    /// does not own the slot.
    pub fn provide(&mut self, slot: u16) -> bool {
        if !self.multishot
            || self.owner(slot) != Some(Owner::Device)
            || self.provided > usize::from(self.ring_mask)
        {
            return false;
        }
        let Some(ring) = self.memory.buf_ring.as_ref() else {
            return false;
        };
        let index = usize::from(self.ring_tail & self.ring_mask);
        // SAFETY: the device owns the slot, below `count`.
        let address = unsafe { self.slot_base(slot) } as u64;
        // SAFETY: `index` is below the ring's entry count (mask + 1). The
        // entry at the tail is not between the kernel's head and the
        // published tail (fewer than `entries` slots are provided, and the
        // kernel's head is never behind what it gave back), so the kernel
        // does not read it now. Only the fields are written, through raw
        // pointers, never `resv` (entry 0's is the tail, which the kernel
        // reads). The buffer's `headroom + capacity + 1` bytes fit the
        // slot's stride.
        unsafe {
            let entry = ring.base().cast::<BufEntry>().add(index);
            (&raw mut (*entry).addr).write(address);
            (&raw mut (*entry).len).write((self.shape.headroom + self.shape.capacity + 1) as u32);
            (&raw mut (*entry).bid).write(slot);
        }
        self.ring_tail = self.ring_tail.wrapping_add(1);
        self.tail_dirty = true;
        self.provided += 1;
        self.owners[usize::from(slot)] = Owner::Provided;
        true
    }

    /// Arms the multishot receive; `false` if not multishot, already
    /// armed, or the submission queue is full.
    pub fn arm(&mut self) -> bool {
        if !self.multishot || self.armed {
            return false;
        }
        // The plain descriptor: the kernel refuses a multishot read of a
        // fixed file with EBADFD (seen on a socket), and for one long-lived
        // operation a fixed file saves nothing.
        let entry = match self.medium {
            Medium::Tap => opcode::ReadMulti::new(Fd(self.fd), 0, BUF_GROUP).build(),
            Medium::Packet => {
                let Some(header) = self.header(self.shape.count) else {
                    return false;
                };
                // `msg` is the first field of the `repr(C)` header.
                opcode::RecvMsgMulti::new(Fd(self.fd), header.cast::<libc::msghdr>(), BUF_GROUP)
                    .flags(libc::MSG_TRUNC as u32)
                    .build()
            }
        };
        let entry = entry.user_data(user_data(MULTI, 0));
        // SAFETY: the entry names the template header (never written
        // after set-up) and the buffer group, whose buffers are recorded
        // as the kernel's when provided.
        if !unsafe { self.push(&entry) } {
            return false;
        }
        self.armed = true;
        self.delivered = false;
        self.counters.arms += 1;
        true
    }

    /// Sends the first `len` bytes of `slot`'s frame, behind `vnet` on a
    /// TAP with virtio-net headers (ignored otherwise); `false` if the
    /// device does not own the slot, `len` exceeds the capacity, or the
    /// submission queue is full.
    pub fn send(&mut self, slot: u16, len: usize, vnet: [u8; VNET_HEADER_LEN]) -> bool {
        if self.owner(slot) != Some(Owner::Device) || len > self.shape.capacity {
            return false;
        }
        let Shape {
            headroom,
            vnet: prefix,
            ..
        } = self.shape;
        // SAFETY: the device owns the slot, below `count`; the virtio-net
        // header (if any) takes the last `prefix <= headroom` bytes of the
        // headroom, right before the frame area.
        let start = unsafe { self.slot_base(slot).add(headroom - prefix) };
        // SAFETY: the device owns the slot: nothing in flight reads or
        // writes its headroom. `prefix` is 0 or the header's length.
        unsafe { core::ptr::copy_nonoverlapping(vnet.as_ptr(), start, prefix.min(vnet.len())) };
        let len = (prefix + len) as u32;
        let entry = match self.medium {
            Medium::Tap => match self.chunk(slot) {
                Some(index) => opcode::WriteFixed::new(Fixed(0), start, len, index).build(),
                None => opcode::Write::new(Fixed(0), start, len).build(),
            },
            // MSG_DONTWAIT: with the socket's send buffer full, io_uring
            // would park the send and retry it later while the sends
            // behind it go out at once, reordering the frames (a TCP peer
            // sees duplicate ACK-provoking gaps; an iperf3 UDP test its
            // last datagrams after the end of the test). Refused now, the
            // frame is dropped and counted, as a full NIC queue drops,
            // and the order holds.
            Medium::Packet => opcode::Send::new(Fixed(0), start, len)
                .flags(libc::MSG_DONTWAIT)
                .build(),
        };
        let entry = entry.user_data(user_data(SEND, slot));
        // SAFETY: the entry names `len <= capacity` bytes of the slot's
        // frame area; the slot is recorded as the kernel's right after.
        if !unsafe { self.push(&entry) } {
            return false;
        }
        self.owners[usize::from(slot)] = Owner::Send;
        true
    }

    /// The registered buffer holding `slot`, if registered.
    fn chunk(&self, slot: u16) -> Option<u16> {
        let per_chunk = self.slots_per_chunk;
        (per_chunk != 0).then(|| (usize::from(slot) / per_chunk) as u16)
    }

    /// Publishes the buffer ring's tail and submits everything pushed:
    /// one `io_uring_enter`, or none if there is nothing to do. Transient
    /// refusals (a full completion queue, a signal) count as success: the
    /// entries stay queued for the next call.
    pub fn submit(&mut self) -> io::Result<()> {
        self.publish();
        let pending = !self.uring.submission().is_empty();
        if !pending && !self.uring.submission().taskrun() {
            return Ok(());
        }
        self.counters.enters += 1;
        match self.uring.submit() {
            Ok(_) => Ok(()),
            Err(err) if transient(&err) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Makes the buffers provided since the last call visible to the
    /// kernel.
    fn publish(&mut self) {
        if !self.tail_dirty {
            return;
        }
        let Some(ring) = self.memory.buf_ring.as_ref() else {
            return;
        };
        // SAFETY: entry 0's `resv` is the ring's tail (an aligned u16 the
        // kernel reads atomically); the release store orders the entries
        // written before it.
        let tail = unsafe { AtomicU16::from_ptr(&raw mut (*ring.base().cast::<BufEntry>()).resv) };
        tail.store(self.ring_tail, Ordering::Release);
        self.tail_dirty = false;
    }

    /// Whether a completion waits to be taken.
    fn completions_waiting(&self) -> bool {
        if self.batch_at < self.batch_len || self.pending_end.is_some() {
            return true;
        }
        // SAFETY: the completion queue is only ever taken through `&mut
        // self` elsewhere, and `Ring` is not `Sync`, so no other handle to
        // it exists while `&self` is borrowed here; this one only looks.
        !unsafe { self.uring.completion_shared() }.is_empty()
    }

    /// Submits what was pushed and waits until a completion arrives, at
    /// most `timeout` (`None`: no limit). Returns whether one is waiting.
    ///
    /// Waits for one completion only: waiting for more in one call
    /// stalled under multishot load on the kernels measured (see
    /// PLATFORM.md in the project).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let submitter = self.uring.submitter();
        if self.completions_waiting() {
            return Ok(true);
        }
        let waited = match timeout {
            None => submitter.submit_and_wait(1),
            Some(timeout) => {
                let timespec = Timespec::from(timeout);
                let args = SubmitArgs::new().timespec(&timespec);
                submitter.submit_with_args(1, &args)
            }
        };
        match waited {
            Ok(_) => {}
            Err(err) if err.raw_os_error() == Some(libc::ETIME) || transient(&err) => {}
            Err(err) => return Err(err),
        }
        Ok(self.completions_waiting())
    }

    /// The next completion, if one arrived.
    pub fn next(&mut self) -> Option<Completion> {
        if let Some(errno) = self.pending_end.take() {
            return Some(Completion::MultishotEnded { errno });
        }
        if self.batch_at == self.batch_len && !self.refill() {
            return None;
        }
        let (data, result, flags) = self.batch[self.batch_at];
        self.batch_at += 1;
        Some(self.complete(data, result, flags))
    }

    /// Takes up to [`BATCH`] completions off the queue; `false` if none.
    fn refill(&mut self) -> bool {
        for attempt in 0..2 {
            let mut queue = self.uring.completion();
            let mut n = 0;
            for entry in queue.by_ref().take(BATCH) {
                self.batch[n] = (entry.user_data(), entry.result(), entry.flags());
                n += 1;
            }
            drop(queue);
            self.batch_len = n;
            self.batch_at = 0;
            if n > 0 {
                return true;
            }
            // With cooperative task running, finished operations may wait
            // for a system call to post their completions.
            if attempt == 0 && self.uring.submission().taskrun() {
                self.counters.enters += 1;
                let _ = self.uring.submit();
            } else {
                break;
            }
        }
        false
    }

    /// What completion (`data`, `result`, `flags`) means, with the slot it
    /// names handed back to the device.
    fn complete(&mut self, data: u64, result: i32, flags: u32) -> Completion {
        let slot = data as u16;
        match data >> 56 {
            RECV => {
                self.outstanding = self.outstanding.saturating_sub(1);
                if !self.take_back(slot, Owner::Recv) {
                    return Completion::Bogus;
                }
                self.receiving -= 1;
                if result < 0 {
                    return Completion::Empty {
                        slot,
                        errno: -result,
                    };
                }
                self.received(slot, result as usize, false)
            }
            MULTI => {
                let more = cqueue::more(flags);
                let errno = if result < 0 { -result } else { 0 };
                if !more {
                    self.outstanding = self.outstanding.saturating_sub(1);
                    self.armed = false;
                }
                let Some(bid) = cqueue::buffer_select(flags) else {
                    return if more {
                        Completion::Other
                    } else {
                        Completion::MultishotEnded { errno }
                    };
                };
                if !more {
                    self.pending_end = Some(errno);
                }
                if !self.take_back(bid, Owner::Provided) {
                    return Completion::Bogus;
                }
                self.provided -= 1;
                if result <= 0 {
                    return Completion::Empty { slot: bid, errno };
                }
                self.delivered = true;
                self.received(bid, result as usize, true)
            }
            SEND => {
                self.outstanding = self.outstanding.saturating_sub(1);
                if !self.take_back(slot, Owner::Send) {
                    return Completion::Bogus;
                }
                Completion::Sent { slot, result }
            }
            CANCEL => {
                self.outstanding = self.outstanding.saturating_sub(1);
                Completion::Other
            }
            _ => {
                self.counters.bogus += 1;
                Completion::Bogus
            }
        }
    }

    /// Gives `slot` back to the device if the kernel had it as `was`.
    fn take_back(&mut self, slot: u16, was: Owner) -> bool {
        match self.owners.get_mut(usize::from(slot)) {
            Some(owner) if *owner == was => {
                *owner = Owner::Device;
                true
            }
            _ => {
                self.counters.bogus += 1;
                false
            }
        }
    }

    /// What arrived in `slot` (now the device's), `result` bytes by the
    /// completion; `multishot` receives put a header first.
    fn received(&mut self, slot: u16, result: usize, multishot: bool) -> Completion {
        let capacity = self.shape.capacity;
        let (len, msg_flags, control_len) = match (self.medium, multishot) {
            // A header first, if the TAP has offloads on (a shorter
            // result is an empty frame, dropped as a runt by the device).
            (Medium::Tap, _) => (result.saturating_sub(self.shape.vnet), 0, 0),
            (Medium::Packet, true) => {
                let Some((_, _)) = self.parts(slot, 0) else {
                    return Completion::Bogus;
                };
                // The `io_uring_recvmsg_out` header the kernel wrote.
                // SAFETY: the device owns the slot (checked by `parts`),
                // whose first 16 bytes are the header, read as bytes.
                let head =
                    unsafe { core::slice::from_raw_parts(self.slot_base(slot), RECVMSG_OUT_LEN) };
                let field = |at: usize| {
                    u32::from_ne_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]])
                };
                let payload = field(8) as usize;
                (
                    payload.saturating_sub(self.shape.vnet),
                    field(12) as i32,
                    field(4) as usize,
                )
            }
            (Medium::Packet, false) => match self.header(usize::from(slot)) {
                // SAFETY: the receive that used this header completed, so
                // the kernel is done with it; read by value. (The length
                // is a `socklen_t` on some C libraries: the cast stays.)
                #[allow(clippy::unnecessary_cast)]
                Some(header) => unsafe {
                    (
                        result.saturating_sub(self.shape.vnet),
                        (*header).msg.msg_flags,
                        (*header).msg.msg_controllen as usize,
                    )
                },
                None => return Completion::Bogus,
            },
        };
        Completion::Received {
            slot,
            len,
            truncated: msg_flags & libc::MSG_TRUNC != 0 || len > capacity,
            control_len: control_len.min(CONTROL_LEN),
        }
    }

    /// Stops receiving through the buffer ring (the multishot receive
    /// must have ended): unregisters it and hands every slot in it back
    /// to `give_back`. Returns whether it did.
    pub fn abandon_multishot(&mut self, mut give_back: impl FnMut(u16)) -> bool {
        if !self.multishot || self.armed {
            return false;
        }
        if self
            .uring
            .submitter()
            .unregister_buf_ring(BUF_GROUP)
            .is_err()
        {
            return false;
        }
        // Unregistered: the kernel no longer takes buffers from the ring.
        self.multishot = false;
        self.provided = 0;
        for (slot, owner) in self.owners.iter_mut().enumerate() {
            if *owner == Owner::Provided {
                *owner = Owner::Device;
                give_back(slot as u16);
            }
        }
        true
    }

    /// Cancels everything in flight and waits, at most `limit`, until the
    /// last completion arrived. Returns whether nothing is in flight.
    pub fn drain(&mut self, limit: Duration) -> bool {
        let started = Instant::now();
        let _ = self.submit();
        let mut cancelled: Option<Instant> = None;
        loop {
            while self.next().is_some() {}
            if self.outstanding == 0 {
                return true;
            }
            if started.elapsed() >= limit {
                return false;
            }
            // (Again) every 100 ms: a request may have been between
            // submission and the kernel's list when the last one looked.
            if cancelled.is_none_or(|at| at.elapsed() >= Duration::from_millis(100)) {
                let entry = opcode::AsyncCancel2::new(CancelBuilder::any())
                    .build()
                    .user_data(user_data(CANCEL, 0));
                // SAFETY: a cancellation names no memory.
                if unsafe { self.push(&entry) } {
                    cancelled = Some(Instant::now());
                }
            }
            let timespec = Timespec::from(Duration::from_millis(10));
            let args = SubmitArgs::new().timespec(&timespec);
            self.counters.enters += 1;
            match self.uring.submitter().submit_with_args(1, &args) {
                Ok(_) => {}
                Err(err) if err.raw_os_error() == Some(libc::ETIME) || transient(&err) => {}
                Err(_) => return false,
            }
        }
    }
}

impl core::fmt::Debug for Ring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ring")
            .field("medium", &self.medium)
            .field("shape", &self.shape)
            .field("outstanding", &self.outstanding)
            .field("multishot", &self.multishot)
            .field("armed", &self.armed)
            .field("provided", &self.provided)
            .field("receiving", &self.receiving)
            .field("registered", &self.registered())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let drained = self.drain(DRAIN_LIMIT);
        if drained && self.multishot {
            let _ = self.uring.submitter().unregister_buf_ring(BUF_GROUP);
        }
        // SAFETY: dropped once, here; `self.uring` is not used after.
        // Closing the ring cancels whatever is still in flight; the kernel
        // finishes that asynchronously, which is why the memory below is
        // only freed when nothing was.
        unsafe { ManuallyDrop::drop(&mut self.uring) };
        if drained {
            // SAFETY: dropped once, here. No operation is in flight: every
            // one pushed has posted its last completion (counted by
            // `outstanding`), and the buffer ring is unregistered (or the
            // ring is closed), so the kernel reads and writes none of this
            // memory any more. Registered buffers are pinned pages the
            // kernel holds its own references to; freeing our mapping of
            // them is allowed.
            unsafe { ManuallyDrop::drop(&mut self.memory) };
        }
        // Not drained (the kernel did not finish within DRAIN_LIMIT, or
        // io_uring_enter failed): the kernel may still write into the
        // buffers or read the headers, so the memory is leaked, never
        // freed: a bounded loss of memory rather than a write into memory
        // the allocator may have handed to someone else.
    }
}

/// Whether a failed `io_uring_enter` is worth simply trying again later.
fn transient(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EINTR | libc::EAGAIN | libc::EBUSY)
    )
}

fn io_error(op: &'static str, err: &io::Error) -> Error {
    Error::io(op, err.raw_os_error().unwrap_or(0))
}

//! The device over one end of a `SOCK_SEQPACKET` socket pair, which reads
//! and writes like a TAP (one frame a read or write): everything but the
//! interfaces, without privileges. The test is the other end. Each test
//! runs in both receive modes (multishot, single-shot).
//!
//! The counting allocator of the privileged harness checks that receiving
//! and sending allocate nothing; the memory checks (a dropped device's
//! buffers never written again) mean most under AddressSanitizer:
//! `RUSTFLAGS="-Zsanitizer=address" cargo +nightly test -p ethox-io-uring
//! --target x86_64-unknown-linux-gnu`.

#[path = "../../ethox/tests/sys_net/mod.rs"]
#[allow(unused_imports)]
mod sys_net;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use ethox::nic::{Device, Handle, Packet, Payload, PayloadMut, Recv, Send};
use ethox_io_uring::{Config, Error, Medium, RxMode, UringNic};
use sys_net::allocations;

const MODES: [RxMode; 2] = [RxMode::Multishot, RxMode::SingleShot];

/// A connected `SOCK_SEQPACKET` pair: (the device's end, the test's).
fn pair() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    let made = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(made, 0, "socketpair: {}", std::io::Error::last_os_error());
    // SAFETY: both were just opened and nothing else owns them.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

fn config(mode: RxMode, buffers: usize) -> Config {
    Config {
        buffers,
        rx_mode: mode,
        ..Config::default()
    }
}

/// A device on a new pair, and the test's end.
fn device(config: &Config) -> (UringNic, OwnedFd) {
    let (ours, theirs) = pair();
    let nic = UringNic::from_fd(ours, Medium::Tap, config).expect("io_uring device");
    (nic, theirs)
}

/// The frame `n`: 60 to 1514 bytes, every byte derived from `n`.
fn frame(n: usize) -> Vec<u8> {
    let len = 60 + (n * 97) % (1514 - 60);
    (0..len).map(|i| (n * 31 + i) as u8).collect()
}

fn write_frame(fd: &OwnedFd, bytes: &[u8]) {
    // SAFETY: `bytes` is readable for its length.
    let written = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
    assert_eq!(
        written,
        bytes.len() as isize,
        "{}",
        std::io::Error::last_os_error()
    );
}

/// The next frame on the test's end, within a second.
fn read_frame(fd: &OwnedFd) -> Option<Vec<u8>> {
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    if unsafe { libc::poll(&mut poll, 1, 1000) } != 1 {
        return None;
    }
    let mut buffer = vec![0u8; 70_000];
    // SAFETY: `buffer` is writable for its length.
    let read = unsafe { libc::read(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
    buffer.truncate(usize::try_from(read).ok()?);
    Some(buffer)
}

/// Records each frame lent; queues it back if `echo`, with its first byte
/// turned over.
#[derive(Default)]
struct Collect {
    frames: Vec<Vec<u8>>,
    echo: bool,
}

impl<D: Device> Recv<D> for Collect {
    fn receive(&mut self, packet: Packet<'_, '_, D>) {
        self.frames.push(packet.payload.payload().to_vec());
        if self.echo {
            packet.payload.payload_mut()[0] ^= 0xff;
            packet.handle.queue().unwrap();
        }
    }
}

/// Sends frames `next..end`, one a buffer.
struct Sender {
    next: usize,
    end: usize,
}

impl<D: Device> Send<D> for Sender {
    fn send(&mut self, packet: Packet<'_, '_, D>) {
        if self.next == self.end {
            return;
        }
        let bytes = frame(self.next);
        packet.payload.resize(bytes.len()).unwrap();
        packet.payload.payload_mut().copy_from_slice(&bytes);
        packet.handle.queue().unwrap();
        self.next += 1;
    }
}

/// Waits and receives into `collect` until it holds `count` frames or
/// five seconds passed.
fn receive(nic: &mut UringNic, collect: &mut Collect, count: usize) {
    let started = Instant::now();
    while collect.frames.len() < count && started.elapsed() < Duration::from_secs(5) {
        nic.wait(Some(Duration::from_millis(50))).unwrap();
        nic.rx(16, &mut *collect).unwrap();
    }
}

#[test]
fn frames_arrive_in_order_and_leave_intact() {
    for (mode, register, single_thread) in [
        (RxMode::Multishot, true, false),
        (RxMode::SingleShot, true, false),
        (RxMode::SingleShot, false, false),
        (RxMode::Multishot, true, true),
        (RxMode::SingleShot, true, true),
    ] {
        let config = Config {
            register_buffers: register,
            single_thread,
            ..config(mode, 64)
        };
        let (mut nic, theirs) = device(&config);
        assert_eq!(nic.multishot(), mode == RxMode::Multishot);
        if !register {
            // Plain reads and writes of unregistered memory.
            assert!(!nic.registered_buffers());
        }
        assert!(nic.in_flight() > 0, "receives are posted at set-up");
        for n in 0..40 {
            write_frame(&theirs, &frame(n));
        }
        let mut collect = Collect::default();
        receive(&mut nic, &mut collect, 40);
        assert_eq!(collect.frames.len(), 40, "{mode:?}: {:?}", nic.stats());
        for (n, got) in collect.frames.iter().enumerate() {
            assert_eq!(got, &frame(n), "{mode:?}: frame {n}");
        }
        let mut sender = Sender {
            next: 100,
            end: 130,
        };
        let mut sent = 0;
        while sender.next < sender.end {
            sent += nic.tx(8, &mut sender).unwrap();
        }
        assert_eq!(sent, 30);
        for n in 100..130 {
            assert_eq!(read_frame(&theirs), Some(frame(n)), "{mode:?}: frame {n}");
        }
        let stats = nic.stats();
        assert_eq!(stats.rx_frames, 40, "{stats:?}");
        assert_eq!(stats.rx_errors, 0, "{stats:?}");
        // A send completes during the submit that starts it; the next call
        // takes its completion.
        nic.rx(1, &mut collect).unwrap();
        assert_eq!(nic.stats().tx_frames, 30, "{:?}", nic.stats());
        assert_eq!(nic.stats().tx_errors, 0);
        assert!(nic.close(), "{mode:?}: every operation finished");
    }
}

#[test]
fn answers_in_place_need_no_free_buffer_and_allocate_nothing() {
    for mode in MODES {
        // Every buffer serves receiving: `tx` has none to lend, so the
        // answers can only leave from the buffers the frames came in.
        let config = Config {
            rx_buffers: Some(16),
            ..config(mode, 16)
        };
        let (mut nic, theirs) = device(&config);
        let mut collect = Collect {
            frames: Vec::with_capacity(64),
            echo: true,
        };
        // Warm up (the first calls may set up lazily in the C library).
        write_frame(&theirs, &frame(0));
        receive(&mut nic, &mut collect, 1);
        assert_eq!(read_frame(&theirs).map(|f| f.len()), Some(frame(0).len()));
        for n in 1..33 {
            write_frame(&theirs, &frame(n));
            let before = allocations();
            let started = Instant::now();
            while collect.frames.len() < n + 1 && started.elapsed() < Duration::from_secs(5) {
                nic.wait(Some(Duration::from_millis(50))).unwrap();
                // `Collect` allocates its record of the frame: counted
                // apart from the device's calls.
                let frames = collect.frames.len();
                nic.rx(16, &mut collect).unwrap();
                if collect.frames.len() == frames {
                    assert_eq!(allocations(), before, "{mode:?}: rx allocated");
                }
            }
            let mut expected = frame(n);
            expected[0] ^= 0xff;
            assert_eq!(read_frame(&theirs), Some(expected), "{mode:?}: answer {n}");
        }
        let before = allocations();
        assert_eq!(nic.tx(4, Sender { next: 0, end: 4 }).unwrap(), 0);
        assert_eq!(allocations(), before, "tx allocated");
        nic.rx(1, &mut collect).unwrap();
        let stats = nic.stats();
        assert_eq!(stats.tx_frames, 33, "{stats:?}");
        assert!(stats.tx_exhausted >= 1, "{stats:?}");
        assert_eq!(nic.free_buffers(), 0, "{stats:?}");
    }
}

#[test]
fn a_dry_buffer_ring_ends_the_multishot_receive_which_is_rearmed() {
    let config = Config {
        rx_buffers: Some(4),
        ..config(RxMode::Multishot, 8)
    };
    let (mut nic, theirs) = device(&config);
    for n in 0..64 {
        write_frame(&theirs, &frame(n));
    }
    // Give the kernel time to use up the four buffers before any return.
    std::thread::sleep(Duration::from_millis(50));
    let mut collect = Collect::default();
    receive(&mut nic, &mut collect, 64);
    let stats = nic.stats();
    assert_eq!(collect.frames.len(), 64, "{stats:?}");
    for (n, got) in collect.frames.iter().enumerate() {
        assert_eq!(got, &frame(n), "frame {n}");
    }
    assert!(stats.rx_enobufs >= 1, "{stats:?}");
    assert!(stats.rx_rearms >= stats.rx_enobufs, "{stats:?}");
    assert_eq!(stats.rx_errors, 0, "{stats:?}");
}

#[test]
fn an_idle_wait_sleeps_until_its_timeout() {
    for mode in MODES {
        let (nic, _theirs) = device(&config(mode, 8));
        let started = Instant::now();
        assert!(!nic.wait(Some(Duration::from_millis(50))).unwrap());
        let slept = started.elapsed();
        assert!(slept >= Duration::from_millis(45), "{slept:?}");
        assert!(!nic.wait(Some(Duration::ZERO)).unwrap());
    }
}

/// Fills `count` blocks of `size` bytes with `pattern`, as a program
/// reusing freed memory would.
fn reuse(count: usize, size: usize, pattern: u8) -> Vec<Vec<u8>> {
    (0..count).map(|_| vec![pattern; size]).collect()
}

#[test]
fn dropping_with_idle_receives_in_flight_frees_the_memory_safely() {
    for mode in MODES {
        let (nic, theirs) = device(&config(mode, 64));
        assert!(nic.in_flight() > 0);
        drop(nic);
        // The buffers' memory goes back to the allocator; reuse it and
        // then let frames arrive: nothing may land there.
        let blocks = reuse(64, 128 * 1024, 0x5a);
        for n in 0..8 {
            // The device's end is closed: the frames have nowhere to go.
            // SAFETY: the frame is readable for its length.
            let bytes = frame(n);
            let _ = unsafe { libc::write(theirs.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        }
        std::thread::sleep(Duration::from_millis(20));
        assert!(blocks.iter().all(|b| b.iter().all(|&x| x == 0x5a)));
    }
}

#[test]
fn dropping_under_traffic_waits_for_every_completion() {
    for mode in MODES {
        for round in 0..3 {
            let (mut nic, theirs) = device(&config(mode, 256));
            // The test's end writes frames (bounded in count and time)
            // while the device receives, sends, and is then dropped.
            let writer = std::thread::spawn(move || {
                let started = Instant::now();
                let mut n = 0;
                while n < 20_000 && started.elapsed() < Duration::from_secs(2) {
                    let bytes = frame(n);
                    // SAFETY: the frame is readable for its length.
                    let written = unsafe {
                        libc::send(
                            theirs.as_raw_fd(),
                            bytes.as_ptr().cast(),
                            bytes.len(),
                            libc::MSG_DONTWAIT,
                        )
                    };
                    if written < 0 {
                        match std::io::Error::last_os_error().raw_os_error() {
                            Some(libc::EAGAIN) => std::thread::yield_now(),
                            // The device's end closed.
                            _ => break,
                        }
                    }
                    n += 1;
                }
                n
            });
            let mut collect = Collect::default();
            receive(&mut nic, &mut collect, 50 + round * 50);
            // Sends in flight too.
            nic.tx(32, Sender { next: 0, end: 32 }).unwrap();
            let in_flight = nic.in_flight();
            assert!(in_flight > 0);
            assert!(
                nic.close(),
                "{mode:?}: the kernel finished with every buffer"
            );
            let blocks = reuse(64, 512 * 1024, 0xa5);
            let written = writer.join().unwrap();
            assert!(written > 0);
            std::thread::sleep(Duration::from_millis(20));
            assert!(blocks.iter().all(|b| b.iter().all(|&x| x == 0xa5)));
        }
    }
}

/// Runs `body` on a thread whose `io_uring_setup` fails with `errno` (a
/// seccomp filter on that thread only), as on a kernel without io_uring
/// or with `kernel.io_uring_disabled` set.
fn without_io_uring<T: std::marker::Send + 'static>(
    errno: u32,
    body: impl FnOnce() -> T + std::marker::Send + 'static,
) -> T {
    std::thread::spawn(move || {
        const NR: u32 = libc::SYS_io_uring_setup as u32;
        // Load the system call number; if io_uring_setup, fail with errno,
        // else allow. (The architecture is the one this test runs on.)
        let mut filter = [
            libc::sock_filter {
                code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
                jt: 0,
                jf: 0,
                k: 0,
            },
            libc::sock_filter {
                code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
                jt: 0,
                jf: 1,
                k: NR,
            },
            libc::sock_filter {
                code: (libc::BPF_RET | libc::BPF_K) as u16,
                jt: 0,
                jf: 0,
                k: libc::SECCOMP_RET_ERRNO | errno,
            },
            libc::sock_filter {
                code: (libc::BPF_RET | libc::BPF_K) as u16,
                jt: 0,
                jf: 0,
                k: libc::SECCOMP_RET_ALLOW,
            },
        ];
        let program = libc::sock_fprog {
            len: filter.len() as u16,
            filter: filter.as_mut_ptr(),
        };
        // SAFETY: prctl with integer arguments; no_new_privs lets an
        // unprivileged thread install a filter, and both stay on this
        // thread (no TSYNC), which ends with the test.
        unsafe {
            assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
            assert_eq!(
                libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &program as *const libc::sock_fprog
                ),
                0,
                "{}",
                std::io::Error::last_os_error()
            );
        }
        body()
    })
    .join()
    .unwrap()
}

#[test]
fn a_missing_or_disabled_io_uring_is_a_clear_error() {
    let open = || {
        let (ours, _theirs) = pair();
        UringNic::from_fd(ours, Medium::Tap, &config(RxMode::Auto, 8)).err()
    };
    let missing = without_io_uring(libc::ENOSYS as u32, open).expect("set-up fails");
    assert_eq!(missing, Error::Unavailable);
    let text = missing.to_string();
    assert!(text.contains("io_uring is not available"), "{text}");
    let disabled = without_io_uring(libc::EPERM as u32, open).expect("set-up fails");
    assert!(matches!(disabled, Error::Disabled { .. }), "{disabled:?}");
    let text = disabled.to_string();
    assert!(text.contains("io_uring is disabled"), "{text}");
    // This machine's sysctl allows io_uring: the message blames a sandbox.
    if std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").is_ok_and(|v| v.trim() == "0")
    {
        assert!(text.contains("seccomp"), "{text}");
    }
}

#[test]
fn bad_configurations_are_refused_before_any_system_call() {
    let (ours, _theirs) = pair();
    let err = UringNic::from_fd(
        ours,
        Medium::Tap,
        &Config {
            frame_size: 10,
            ..Config::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::BadConfiguration { .. }), "{err}");
}

#[test]
fn a_refused_multishot_receive_falls_back_to_single_shot() {
    // A regular file cannot be polled, which a multishot read needs: the
    // kernel refuses it at the first try. Each single-shot read then
    // returns the file's 100 bytes (from offset 0).
    let path = std::env::temp_dir().join(format!("ethox-uring-{}", std::process::id()));
    std::fs::write(&path, &frame(7)[..100]).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let config = config(RxMode::Multishot, 8);
    let mut nic = UringNic::from_fd(file.into(), Medium::Tap, &config).unwrap();
    assert!(nic.multishot());
    let mut collect = Collect::default();
    receive(&mut nic, &mut collect, 4);
    let stats = nic.stats();
    assert!(!nic.multishot(), "{stats:?}");
    assert_eq!(stats.multishot_fallbacks, 1, "{stats:?}");
    assert_eq!(stats.rx_errors, 1, "{stats:?}");
    assert_eq!(stats.last_rx_errno, libc::EBADFD, "{stats:?}");
    assert!(collect.frames.len() >= 4);
    assert!(collect.frames.iter().all(|f| f[..] == frame(7)[..100]));
    assert!(nic.close());
}

#[test]
fn a_single_thread_device_elsewhere_fails_and_leaks_rather_than_frees() {
    for mode in MODES {
        let config = Config {
            single_thread: true,
            ..config(mode, 32)
        };
        let (mut nic, theirs) = device(&config);
        write_frame(&theirs, &frame(1));
        let mut collect = Collect::default();
        receive(&mut nic, &mut collect, 1);
        assert_eq!(collect.frames.len(), 1);
        assert!(nic.in_flight() > 0);
        let closed = std::thread::spawn(move || {
            // Only the creating thread may enter the ring.
            let err = nic.tx(8, Sender { next: 0, end: 8 }).unwrap_err();
            assert_eq!(err, ethox::nic::Error::Os(libc::EEXIST));
            let err = nic.wait(Some(Duration::ZERO)).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
            // The kernel cannot be waited for from here: the buffers are
            // leaked, not freed, and frames arriving now land in memory
            // nobody else uses.
            nic.close()
        })
        .join()
        .unwrap();
        assert!(!closed, "{mode:?}");
        for n in 0..4 {
            let bytes = frame(n);
            // SAFETY: the frame is readable for its length.
            let _ = unsafe { libc::write(theirs.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        }
    }
}

//! This thread's watch over blocking calls: whether it is inside an instrumented poll, and
//! the calls recorded there until the poll ends.
//!
//! A `const` thread-local with nothing to drop: reading the state is one thread-local
//! access, with no lazy initialization and no destructor to register, so it works before
//! `main`, while the thread exits, and inside a signal handler (no allocation, no lock).
//! The records are fixed-size for the same reason: the interposed functions write them;
//! [`Watch::stop`](super::Watch) copies them out when the poll ends.
//!
//! # A signal handler on this thread
//!
//! An interposed function may run inside a signal handler, between any two instructions of
//! the code it interrupts on the same thread, which may be this module's own. What keeps
//! the two apart is one rule: **only a flow of code that has put the thread's state to
//! `Busy` touches `mark`, `len`, `missed` and `records`**. An interposed function looks at
//! the books only after it has moved the state from `Watching` to `Busy` itself, and
//! [`begin`] and [`end`] move it to `Busy` before they touch them. A handler that
//! interrupts the thread while it is `Busy` finds it so and leaves the books alone; one
//! that interrupts it while `Watching` or `Idle` runs to its end, books and state put back
//! as it found them, before the interrupted code goes on (for which it is as if nothing
//! had happened between two of its instructions; a check of the state followed by its
//! change is such a pair, and so safe to interrupt). So the books never have two users at
//! once.
//!
//! For that, every change of the state must happen exactly where the code makes it, as a
//! handler sees it: the state is an atomic, changed between two compiler fences
//! ([`compiler_fence`], the signal fence), so the compiler neither moves a read or write
//! of the books across a change of state nor keeps the state in a register. The `Cell`s
//! of the books need nothing more, having one user at a time.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering, compiler_fence};
use std::time::Duration;

use crate::stall::call_sites::MAX_CALL_SITES;

/// The most frames kept of the stack of one call.
pub(super) const MAX_FRAMES: usize = 64;

/// What the thread is doing, as the interposed functions see it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(super) enum State {
    /// Not inside an instrumented poll (or on a pool thread): calls are not looked at.
    Idle,
    /// Inside an instrumented poll: blocking calls are recorded.
    Watching,
    /// Inside an interposed function or the reporter: calls made now are their own (the
    /// unwinder, the symbolizer's file reads, a hook's writes) and are not looked at.
    Busy,
}

/// One blocking call site of a poll.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record {
    /// The C function.
    pub(super) call: &'static str,
    /// Tells call sites apart: the function and every address of the stack.
    key: u64,
    /// The time the calls from this site took, added up.
    pub(super) took: Duration,
    /// How many calls were made from this site.
    pub(super) count: u32,
    /// How many of `ips` hold addresses.
    len: usize,
    ips: [usize; MAX_FRAMES],
}

impl Record {
    const EMPTY: Record = Record {
        call: "",
        key: 0,
        took: Duration::ZERO,
        count: 0,
        len: 0,
        ips: [0; MAX_FRAMES],
    };

    /// The addresses of the stack of the call, innermost first.
    pub(super) fn ips(&self) -> &[usize] {
        self.ips.get(..self.len).unwrap_or(&[])
    }
}

impl State {
    fn from_u8(state: u8) -> State {
        match state {
            1 => State::Watching,
            2 => State::Busy,
            _ => State::Idle,
        }
    }
}

struct Books {
    /// A [`State`]: an atomic, for a signal handler on this thread (see the module's docs).
    state: AtomicU8,
    /// Where the records of the innermost poll under way start. Touched only while `Busy`.
    mark: Cell<usize>,
    /// How many records are held, for all the polls under way. Touched only while `Busy`.
    len: Cell<usize>,
    /// Touched only while `Busy`.
    records: RefCell<[Record; MAX_CALL_SITES]>,
    /// The calls of the innermost poll under way for which no record was free: counted, for
    /// its report to say. Touched only while `Busy`.
    missed: Cell<u32>,
}

impl Books {
    fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Relaxed))
    }

    /// Changes the state where the code says, as a signal handler on this thread sees it:
    /// nothing before it moves after it, nothing after it moves before it.
    fn set_state(&self, state: State) {
        compiler_fence(Ordering::SeqCst);
        self.state.store(state as u8, Ordering::Relaxed);
        compiler_fence(Ordering::SeqCst);
    }
}

thread_local! {
    static BOOKS: Books = const {
        Books {
            state: AtomicU8::new(State::Idle as u8),
            mark: Cell::new(0),
            len: Cell::new(0),
            records: RefCell::new([Record::EMPTY; MAX_CALL_SITES]),
            missed: Cell::new(0),
        }
    };
}

/// Whether writes to stdout and stderr are reported too (`OFFLOAD_DETECT_STDIO=1`).
static STDIO: AtomicBool = AtomicBool::new(false);

pub(super) fn set_stdio(on: bool) {
    STDIO.store(on, Ordering::Relaxed);
}

pub(super) fn stdio() -> bool {
    STDIO.load(Ordering::Relaxed)
}

/// Whether a call's stack may be walked where the call is made, which may be inside a
/// signal handler: only where the watchdog's checks of the C library and the unwinder pass
/// (unwinding then takes no lock). Elsewhere a call is reported without its stack.
static STACKS: AtomicBool = AtomicBool::new(false);

pub(super) fn set_stacks(on: bool) {
    STACKS.store(on, Ordering::Relaxed);
}

pub(super) fn stacks() -> bool {
    STACKS.load(Ordering::Relaxed)
}

/// The thread's state: the one thread-local read of every intercepted call. `Idle` where
/// the thread-local cannot be reached.
#[inline]
pub(super) fn state() -> State {
    BOOKS.try_with(Books::state).unwrap_or(State::Idle)
}

/// Changes the thread's state; see the module's docs for why this is the one way.
pub(super) fn set_state(state: State) {
    let _ = BOOKS.try_with(|books| books.set_state(state));
}

/// Records a call of `call` that took `took`, made with the stack `ips`: once per call
/// site in the innermost poll under way (a site seen before adds its time). Never panics,
/// never allocates. Called only by a flow that has put the state to `Busy` itself.
pub(super) fn record(call: &'static str, took: Duration, ips: &[usize]) {
    // FNV-1a over the function's name and the addresses.
    let mut key: u64 = 0xcbf2_9ce4_8422_2325;
    for word in call
        .bytes()
        .map(u64::from)
        .chain(ips.iter().map(|&ip| ip as u64))
    {
        key = (key ^ word).wrapping_mul(0x0100_0000_01b3);
    }
    let _ = BOOKS.try_with(|books| {
        let Ok(mut records) = books.records.try_borrow_mut() else {
            return;
        };
        let (mark, len) = (books.mark.get(), books.len.get());
        if let Some(seen) = records
            .get_mut(mark..len)
            .and_then(|polled| polled.iter_mut().find(|record| record.key == key))
        {
            seen.took = seen.took.saturating_add(took);
            seen.count = seen.count.saturating_add(1);
            return;
        }
        let Some(slot) = records.get_mut(len) else {
            books.missed.set(books.missed.get().saturating_add(1));
            return;
        };
        let kept = ips.len().min(MAX_FRAMES);
        *slot = Record {
            call,
            key,
            took,
            count: 1,
            len: kept,
            ips: [0; MAX_FRAMES],
        };
        if let (Some(to), Some(from)) = (slot.ips.get_mut(..kept), ips.get(..kept)) {
            to.copy_from_slice(from);
        }
        books.len.set(len + 1);
    });
}

/// What a poll replaced when it began to watch, put back when it stops.
#[derive(Debug)]
pub(super) struct Outer {
    state: State,
    mark: usize,
    missed: u32,
}

/// A poll begins: calls are recorded from now on, apart from those of outer polls (unless
/// on a pool thread, which may block).
pub(super) fn begin(pool_thread: bool) -> Outer {
    BOOKS.with(|books| {
        let state = books.state();
        // `Busy` while the books change: see the module's docs.
        books.set_state(State::Busy);
        let outer = Outer {
            state,
            mark: books.mark.replace(books.len.get()),
            missed: books.missed.replace(0),
        };
        books.set_state(if pool_thread { state } else { State::Watching });
        outer
    })
}

/// The poll ends: the outer poll's books come back, and the calls recorded in this one are
/// returned (allocating only when there are some), with the count of those it had no
/// record for.
pub(super) fn end(outer: &Outer) -> (Vec<Record>, u32) {
    BOOKS.with(|books| {
        // `Busy` while the books change and are copied: see the module's docs.
        books.set_state(State::Busy);
        let mark = books.mark.replace(outer.mark);
        let len = books.len.replace(mark);
        let missed = books.missed.replace(outer.missed);
        let records = match books.records.try_borrow() {
            Ok(records) => records
                .get(mark..len)
                .map(<[Record]>::to_vec)
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        books.set_state(outer.state);
        (records, missed)
    })
}

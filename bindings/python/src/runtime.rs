//! The extension's own tokio runtime, and the two ways Python waits for core futures.
//!
//! - Blocking calls run the future on the calling thread with [`block_on`], after
//!   detaching from the interpreter so that other Python threads keep running.
//! - asyncio calls go through [`spawn`]: the future runs on a blocking-pool thread of
//!   the runtime, and its result is handed to a Python callback that completes an
//!   asyncio future with `loop.call_soon_threadsafe`.
//!
//! The runtime is created on first use and shut down by `shutdown_at_exit()`, which the
//! package registers with `atexit`, so that no runtime thread touches the interpreter
//! while it finalizes.
//!
//! A thread that would attach to the interpreter after that point is parked instead.
//! On CPython 3.9 to 3.13, a thread that attaches during finalization is ended with
//! `pthread_exit`, and its forced unwinding through Rust frames can abort the process.
//! Only daemon threads and runtime threads stuck past the shutdown timeout can get
//! there, and the process is about to exit anyway.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use futures_util::FutureExt;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::{Builder, Handle, Runtime};

use crate::errors::to_py_err;

/// Worker threads that drive I/O (sockets, timers). Core work is short and Python code
/// never runs on them, so two are enough.
const WORKER_THREADS: usize = 2;

/// Threads that run asyncio-initiated operations, which may wait on the GIL or on a
/// user's blocking database driver.
const MAX_BLOCKING_THREADS: usize = 64;

/// How long `shutdown_at_exit()` waits for operations in flight.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);
/// Set when the atexit shutdown starts: no new operation may start.
static SHUT_DOWN: AtomicBool = AtomicBool::new(false);
/// Set when the atexit shutdown ends: the interpreter finalizes next.
static FINALIZING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Whether this thread is detached inside trustline (a runtime thread, or a caller
    /// blocked in [`block_on`]) and so may be parked at exit.
    static MAY_PARK: Cell<bool> = const { Cell::new(false) };
}

/// Parks the calling thread for good once `flag` is set (see the module
/// documentation); returns at once otherwise.
fn park_if(flag: &AtomicBool) {
    while flag.load(Ordering::Acquire) {
        std::thread::park();
    }
}

/// Attaches to the interpreter, for a callback into Python. Once the interpreter
/// finalizes, a thread that trustline detached is parked instead. A thread that is
/// already attached, such as a caller of `verify_local`, attaches as usual.
pub fn attach<R>(function: impl FnOnce(Python<'_>) -> R) -> R {
    if MAY_PARK.with(Cell::get) {
        park_if(&FINALIZING);
    }
    Python::attach(function)
}

/// Returns a handle to the runtime, creating the runtime on first use.
pub fn handle() -> PyResult<Handle> {
    if SHUT_DOWN.load(Ordering::Acquire) {
        return Err(PyRuntimeError::new_err(
            "the trustline runtime has been shut down because the interpreter is exiting",
        ));
    }
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(runtime) = slot.as_ref() {
        return Ok(runtime.handle().clone());
    }
    let runtime = Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_name("trustline-runtime")
        .on_thread_start(|| MAY_PARK.with(|may_park| may_park.set(true)))
        .enable_all()
        .build()
        .map_err(|error| {
            PyRuntimeError::new_err(format!("starting the trustline runtime failed: {error}"))
        })?;
    let handle = runtime.handle().clone();
    *slot = Some(runtime);
    Ok(handle)
}

/// Runs a future to completion on the calling thread, detached from the interpreter.
pub fn block_on<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let handle = handle()?;
    let output = py.detach(|| {
        let could_park = MAY_PARK.with(|may_park| may_park.replace(true));
        // A Python callback that the runtime is already blocking on (a storage method
        // calling a blocking trustline method) cannot block this thread again, so the
        // nested call gets a thread of its own.
        let output = if Handle::try_current().is_ok() {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| handle.block_on(future))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        } else {
            handle.block_on(future)
        };
        // Only a daemon thread can get here once the atexit shutdown has started: the
        // main thread runs it, and other threads were joined before it. Its operation
        // was cut short by the shutdown, so it is parked instead of raising that error.
        park_if(&SHUT_DOWN);
        MAY_PARK.with(|may_park| may_park.set(could_park));
        output
    });
    Ok(output)
}

/// Converts a successful result into a Python object; runs with the interpreter attached.
pub type Convert<T> = Box<dyn FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send>;

/// Runs a future on the runtime and calls `done(error, value)` with its outcome, from a
/// runtime thread. Exactly one of the two is `None`. A panic in the future becomes an
/// `internal_error`, so the callback is always called.
pub fn spawn<F, T>(future: F, convert: Convert<T>, done: Py<PyAny>) -> PyResult<()>
where
    F: Future<Output = trustline::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let handle = handle()?;
    let runner = handle.clone();
    handle.spawn_blocking(move || {
        let outcome = runner.block_on(AssertUnwindSafe(future).catch_unwind());
        attach(|py| {
            let settled = match outcome {
                Ok(Ok(value)) => {
                    convert(py, value).map_err(|error| error.into_value(py).into_any())
                }
                Ok(Err(error)) => Err(to_py_err(py, error).into_value(py).into_any()),
                Err(_) => Err(to_py_err(
                    py,
                    trustline::Error::new(
                        trustline::ErrorKind::Internal,
                        "a trustline operation panicked",
                    ),
                )
                .into_value(py)
                .into_any()),
            };
            let arguments = match settled {
                Ok(value) => (py.None(), value),
                Err(error) => (error, py.None()),
            };
            if let Err(error) = done.call1(py, arguments) {
                error.write_unraisable(py, None);
            }
        });
    });
    Ok(())
}

/// Shuts the runtime down at interpreter exit, waiting up to five seconds for
/// operations in flight. Later calls that need the runtime raise `RuntimeError`.
pub fn shutdown_at_exit(py: Python<'_>) {
    SHUT_DOWN.store(true, Ordering::Release);
    let runtime = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    if let Some(runtime) = runtime {
        // Runtime threads may be waiting to attach to the interpreter to finish an
        // operation in flight, so detach while waiting for them.
        py.detach(|| runtime.shutdown_timeout(SHUTDOWN_TIMEOUT));
    }
    FINALIZING.store(true, Ordering::Release);
}

/// Forgets the runtime in a child process after `fork()`: its threads exist only in the
/// parent, so it can be neither used nor shut down. The next call creates a new one.
pub fn forget_after_fork() {
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(runtime) = slot.take() {
        std::mem::forget(runtime);
    }
}

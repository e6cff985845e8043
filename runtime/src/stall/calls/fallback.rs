//! Where the C library's functions are not interposed (see the module's docs): a watch
//! that records nothing.

use crate::stall::guard::FnSite;
use crate::stall::report::SourceLocation;

/// Watches nothing here.
pub(crate) struct Watch;

/// Always none here.
#[derive(Debug)]
pub(crate) struct Calls;

impl Watch {
    pub(crate) fn start(_pool_thread: bool) -> Watch {
        Watch
    }

    pub(crate) fn stop(&self) -> Calls {
        Calls
    }
}

/// Runs `f`: nothing is watched here anyway.
pub(crate) fn unwatched<T>(f: impl FnOnce() -> T) -> T {
    f()
}

impl Calls {
    pub(crate) fn report(
        self,
        _site: &'static FnSite,
        _from: Option<&'static SourceLocation>,
        _to: Option<&'static SourceLocation>,
        _test: bool,
    ) {
    }
}

//! SQLite's own page cache, with one wasted scan taken out of every commit.
//!
//! At the end of each write transaction SQLite asks its page cache to drop the pages past the
//! end of the database (`pcache1Truncate`). The cache skips that when no page number it has
//! seen since the last truncation is that large, and otherwise walks its whole hash table.
//! But when a B-tree split puts its new pages in order (`balance_nonroot`), it swaps two of
//! them through a temporary page number just past SQLite's lock byte (page 262,145 with 4 KB
//! pages), and the cache remembers that number as its largest. So every transaction with
//! such a split — nearly every batch of messages — ended in a walk over every cached page of
//! the writer (up to 16,384 with its 64 MB cache): 15% of the committer thread's samples in a
//! `perf` profile of fanout's paced phase, where commits are small and frequent.
//!
//! The fix wraps SQLite's default page cache (`SQLITE_CONFIG_PCACHE2`) and keeps its own
//! largest page number, leaving out the temporary one while no page holds it. A truncation
//! that can find nothing to drop is not passed on; every other call goes straight through.

use rusqlite::ffi;
use std::ffi::{c_int, c_uint};
use std::sync::OnceLock;

/// SQLite's lock-byte offset (`PENDING_BYTE`); its page number + 1 is the temporary one.
const PENDING_BYTE: c_uint = 0x4000_0000;

/// SQLite's default page cache, as it was before `install`.
struct DefaultCache(ffi::sqlite3_pcache_methods2);
// SAFETY: a table of C function pointers and the default cache's global argument, which
// SQLite itself shares between threads.
#[allow(unsafe_code)]
unsafe impl Send for DefaultCache {}
#[allow(unsafe_code)]
unsafe impl Sync for DefaultCache {}

static DEFAULT: OnceLock<Option<DefaultCache>> = OnceLock::new();

/// One cache: the default cache's own, and the page numbers it may hold.
struct Cache {
    inner: *mut ffi::sqlite3_pcache,
    bound: Bound,
}

/// The largest page number a cache may hold.
#[derive(Debug)]
struct Bound {
    /// The largest page number fetched or re-keyed into the cache since its last
    /// truncation, not counting `temporary`.
    largest: c_uint,
    /// The split's temporary page number for this page size.
    temporary: c_uint,
    /// A page holds `temporary` right now (between the swaps of a split).
    temporary_held: bool,
}

impl Bound {
    fn new(page_size: c_int) -> Self {
        Self {
            largest: 0,
            temporary: PENDING_BYTE / page_size.max(1) as c_uint + 1,
            temporary_held: false,
        }
    }

    /// A page now has number `key` (fetched, or re-keyed from `old`).
    fn holds(&mut self, key: c_uint, old: Option<c_uint>) {
        if old == Some(self.temporary) {
            self.temporary_held = false;
        }
        if key == self.temporary {
            self.temporary_held = true;
        } else if key > self.largest {
            self.largest = key;
        }
    }

    /// Whether a page numbered `limit` or more may be in the cache.
    fn may_hold_from(&self, limit: c_uint) -> bool {
        limit <= self.largest || (self.temporary_held && limit <= self.temporary)
    }

    /// Every page numbered `limit` or more was dropped.
    fn truncated(&mut self, limit: c_uint) {
        self.largest = self.largest.min(limit.saturating_sub(1));
        if limit <= self.temporary {
            self.temporary_held = false;
        }
    }
}

/// Put the wrapper in place. SQLite takes this only before it is initialised, i.e. before
/// the process opens its first connection; later (another store in the same process) the
/// wrapper is already there, or SQLite refuses and keeps its default cache, which is only
/// slower.
pub fn install() {
    DEFAULT.get_or_init(|| {
        let mut default = ffi::sqlite3_pcache_methods2 {
            iVersion: 0,
            pArg: std::ptr::null_mut(),
            xInit: None,
            xShutdown: None,
            xCreate: None,
            xCachesize: None,
            xPagecount: None,
            xFetch: None,
            xUnpin: None,
            xRekey: None,
            xTruncate: None,
            xDestroy: None,
            xShrink: None,
        };
        // SAFETY: both calls pass the pointer type their option documents; SQLite copies
        // the table it is given.
        #[allow(unsafe_code)]
        unsafe {
            if ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETPCACHE2, &mut default) != ffi::SQLITE_OK {
                return None;
            }
            // The wrapper calls each of these without checking again.
            let complete = default.xCreate.is_some()
                && default.xCachesize.is_some()
                && default.xPagecount.is_some()
                && default.xFetch.is_some()
                && default.xUnpin.is_some()
                && default.xRekey.is_some()
                && default.xTruncate.is_some()
                && default.xDestroy.is_some()
                && default.xShrink.is_some();
            if !complete {
                return None;
            }
            let wrapped = ffi::sqlite3_pcache_methods2 {
                iVersion: default.iVersion,
                pArg: default.pArg,
                xInit: default.xInit,
                xShutdown: default.xShutdown,
                xCreate: Some(create),
                xCachesize: Some(cachesize),
                xPagecount: Some(pagecount),
                xFetch: Some(fetch),
                xUnpin: Some(unpin),
                xRekey: Some(rekey),
                xTruncate: Some(truncate),
                xDestroy: Some(destroy),
                xShrink: Some(shrink),
            };
            // SQLite calls the wrapper only once it is initialised, at the first connection,
            // which the store opens after this returns and `DEFAULT` holds the default.
            let saved = DefaultCache(default);
            if ffi::sqlite3_config(ffi::SQLITE_CONFIG_PCACHE2, &wrapped) != ffi::SQLITE_OK {
                tracing::debug!("SQLite was already initialised; its default page cache stays");
                return None;
            }
            Some(saved)
        }
    });
}

/// The default cache's methods. Only called through the wrapper, which exists only once
/// `DEFAULT` holds them.
fn default() -> &'static ffi::sqlite3_pcache_methods2 {
    match DEFAULT.get() {
        Some(Some(d)) => &d.0,
        _ => unreachable!("the page cache wrapper is installed only with its default"),
    }
}

// SAFETY (all methods below): SQLite calls them with a cache `create` returned, from one
// connection at a time, and passes everything else on unchanged to the default cache.

#[allow(unsafe_code)]
unsafe extern "C" fn create(
    size: c_int,
    extra: c_int,
    purgeable: c_int,
) -> *mut ffi::sqlite3_pcache {
    let inner = unsafe { (default().xCreate.unwrap_unchecked())(size, extra, purgeable) };
    if inner.is_null() {
        return inner;
    }
    Box::into_raw(Box::new(Cache {
        inner,
        bound: Bound::new(size),
    }))
    .cast()
}

#[allow(unsafe_code)]
unsafe fn cache<'a>(p: *mut ffi::sqlite3_pcache) -> &'a mut Cache {
    unsafe { &mut *p.cast::<Cache>() }
}

#[allow(unsafe_code)]
unsafe extern "C" fn cachesize(p: *mut ffi::sqlite3_pcache, n: c_int) {
    unsafe { (default().xCachesize.unwrap_unchecked())(cache(p).inner, n) }
}

#[allow(unsafe_code)]
unsafe extern "C" fn pagecount(p: *mut ffi::sqlite3_pcache) -> c_int {
    unsafe { (default().xPagecount.unwrap_unchecked())(cache(p).inner) }
}

#[allow(unsafe_code)]
unsafe extern "C" fn fetch(
    p: *mut ffi::sqlite3_pcache,
    key: c_uint,
    create: c_int,
) -> *mut ffi::sqlite3_pcache_page {
    let c = unsafe { cache(p) };
    let page = unsafe { (default().xFetch.unwrap_unchecked())(c.inner, key, create) };
    if !page.is_null() {
        c.bound.holds(key, None);
    }
    page
}

#[allow(unsafe_code)]
unsafe extern "C" fn unpin(
    p: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    discard: c_int,
) {
    unsafe { (default().xUnpin.unwrap_unchecked())(cache(p).inner, page, discard) }
}

#[allow(unsafe_code)]
unsafe extern "C" fn rekey(
    p: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    old: c_uint,
    new: c_uint,
) {
    let c = unsafe { cache(p) };
    unsafe { (default().xRekey.unwrap_unchecked())(c.inner, page, old, new) };
    c.bound.holds(new, Some(old));
}

#[allow(unsafe_code)]
unsafe extern "C" fn truncate(p: *mut ffi::sqlite3_pcache, limit: c_uint) {
    let c = unsafe { cache(p) };
    if c.bound.may_hold_from(limit) {
        unsafe { (default().xTruncate.unwrap_unchecked())(c.inner, limit) };
        c.bound.truncated(limit);
    }
}

#[allow(unsafe_code)]
unsafe extern "C" fn destroy(p: *mut ffi::sqlite3_pcache) {
    let c = unsafe { Box::from_raw(p.cast::<Cache>()) };
    unsafe { (default().xDestroy.unwrap_unchecked())(c.inner) }
}

#[allow(unsafe_code)]
unsafe extern "C" fn shrink(p: *mut ffi::sqlite3_pcache) {
    unsafe { (default().xShrink.unwrap_unchecked())(cache(p).inner) }
}

#[cfg(test)]
mod tests {
    use super::Bound;

    /// 4 KB pages: the split's temporary page number is 262,145.
    const TEMPORARY: u32 = 262_145;

    #[test]
    fn a_split_s_temporary_page_number_does_not_count_once_it_is_gone() {
        let mut b = Bound::new(4096);
        assert_eq!(b.temporary, TEMPORARY);
        b.holds(120, None);
        // balance_nonroot: A -> temporary, B -> A, A -> B.
        b.holds(TEMPORARY, Some(118));
        assert!(b.may_hold_from(121), "the temporary page is held");
        b.holds(118, Some(119));
        b.holds(119, Some(TEMPORARY));
        // The commit's truncation past the end of a 120-page database has nothing to drop.
        assert!(!b.may_hold_from(121));
        assert!(b.may_hold_from(120));
    }

    #[test]
    fn pages_past_the_limit_are_dropped_once() {
        let mut b = Bound::new(4096);
        b.holds(300, None);
        b.holds(301, None);
        // A rollback back to 250 pages: pages 251.. must go.
        assert!(b.may_hold_from(251));
        b.truncated(251);
        assert!(!b.may_hold_from(251));
        b.holds(260, None);
        assert!(b.may_hold_from(251));
        // Truncating everything (a reset) forgets the temporary page too.
        b.holds(TEMPORARY, Some(260));
        b.truncated(1);
        assert!(!b.may_hold_from(1));
    }
}

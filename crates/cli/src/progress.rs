//! Progress of long runs on standard error: a bar on a terminal; on a pipe or a CI log, a
//! plain line (`[12/40] 0:31 grid2d … acyclic`) at most every few seconds, so a redirected
//! run still shows that it is alive and how far it is.

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// Seconds between two progress lines when standard error is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// A progress bar over `len` steps, drawn as fits standard error.
pub fn bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if io::stderr().is_terminal() {
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    } else {
        bar.set_style(
            ProgressStyle::with_template("[{pos}/{len}] {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_draw_target(ProgressDrawTarget::term_like_with_hz(
            Box::new(Lines::default()),
            1,
        ));
    }
    bar
}

/// A "terminal" that turns each redraw of the bar into one line on standard error, at most
/// one per [`LINE_EVERY`]; cursor movements and clears are ignored.
#[derive(Debug, Default)]
struct Lines {
    last: Mutex<Option<Instant>>,
}

impl Lines {
    fn emit(&self, s: &str) -> io::Result<()> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(());
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < LINE_EVERY) {
            return Ok(());
        }
        *last = Some(Instant::now());
        writeln!(io::stderr().lock(), "{s}")
    }
}

impl TermLike for Lines {
    fn width(&self) -> u16 {
        200
    }

    fn move_cursor_up(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.emit(s)
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.emit(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}

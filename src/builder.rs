//! [`Builder`]: the pieces of an evaluator — function hooks, backend, plan, point — and the
//! one `build` path that turns them into a prepared recovery. [`HessianBuilder`] and
//! [`JacobianBuilder`] are its two kinds; each adds `function` (what a function brings:
//! its default backend, tracing, plain evaluations) and a typed `build`.
//!
//! [`HessianBuilder`]: crate::HessianBuilder
//! [`JacobianBuilder`]: crate::JacobianBuilder

use std::sync::Arc;
use std::time::Instant;

use sparsediff_probe::ProbePlan;

use crate::engine::EnginePlan;

use crate::error::SparseError;
use crate::options::{BackendChoice, Options};
use crate::recovery::{Hooks, Parts, Products, Recovery};

/// Builds the backend of a function at x0 for a [`BackendChoice`].
pub(crate) type MakeBackend<'f, B> = crate::recovery::MakeBackend<'f, Box<B>>;

/// The pieces at hand for an evaluator of backend kind `B` (`dyn HessianBackend` or
/// `dyn JacobianBackend`): use it as [`HessianBuilder`](crate::HessianBuilder) or
/// [`JacobianBuilder`](crate::JacobianBuilder).
pub struct Builder<'x, 'f, B: ?Sized> {
    pub(crate) point: Option<&'x [f64]>,
    pub(crate) hooks: Option<Hooks<'f>>,
    pub(crate) make: Option<MakeBackend<'f, B>>,
    pub(crate) backend: Option<Box<B>>,
    pub(crate) plan: Option<EnginePlan>,
}

impl<B: ?Sized> Default for Builder<'_, '_, B> {
    fn default() -> Self {
        Self {
            point: None,
            hooks: None,
            make: None,
            backend: None,
            plan: None,
        }
    }
}

impl<B: ?Sized> std::fmt::Debug for Builder<'_, '_, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("point", &self.point.map(<[f64]>::len))
            .field("function", &self.hooks.is_some())
            .field("backend", &self.backend.is_some())
            .field(
                "plan",
                &self.plan.as_ref().map(|p| p.designer().to_string()),
            )
            .finish()
    }
}

impl<'x, 'f, B: ?Sized> Builder<'x, 'f, B> {
    /// A backend of the caller's (closures over another AD system, finite differences of
    /// a user gradient, a tape built elsewhere); it replaces the function's default one.
    pub fn backend(mut self, backend: Box<B>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// A plan to use as it is (from `shared_plan` of another evaluator, or loaded): no
    /// detection, no design; its pattern is never widened.
    pub fn plan(mut self, plan: impl Into<Arc<ProbePlan>>) -> Self {
        self.plan = Some(EnginePlan::Single(plan.into()));
        self
    }

    /// The point where the backend is recorded and the pattern detected.
    pub fn point(mut self, x0: &'x [f64]) -> Self {
        self.point = Some(x0);
        self
    }
}

/// The backend (the caller's, or the function's at x0), the pattern (the options' detector
/// at x0, unless a plan is given), the plan (the options' strategy), buffers and
/// verification: everything `evaluate` needs.
pub(crate) fn prepare<'f, B: ?Sized>(
    builder: Builder<'_, 'f, B>,
    options: &Options,
) -> Result<Recovery<'f, Box<B>>, SparseError>
where
    Box<B>: Products,
{
    let Builder {
        point,
        hooks,
        make,
        backend,
        plan,
    } = builder;
    if let Some(x0) = point {
        crate::error::check_finite_input(x0)?;
    }
    let start = Instant::now();
    let (backend, tape) = match (backend, make) {
        (Some(b), _) => (b, None),
        (None, Some(make)) => {
            let b = make(point.ok_or(SparseError::NeedsPoint)?, options.backend)?;
            // Under `Auto` the tape may replace the default backend when a row plan wins.
            let tape = (options.backend == BackendChoice::Auto).then_some(make);
            (b, tape)
        }
        (None, None) => {
            return Err(SparseError::NeedsFunction {
                what: "building a backend",
            });
        }
    };
    let parts = Parts {
        backend,
        hooks,
        plan,
        backend_time: start.elapsed(),
        tape,
    };
    Recovery::prepare(parts, point, options)
}

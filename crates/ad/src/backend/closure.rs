//! Backends whose products the caller computes (PyTorch, JAX, a GPU code through FFI).

use std::fmt;
use std::sync::Arc;

use super::{
    AdError, HessianBackend, JacobianBackend, SeedBlock, check_finite, check_len, check_seeds,
};

/// What a caller's closure returns on failure: any error, boxed (`"text".into()`,
/// `format!(..).into()` and `?` on any `std::error::Error` all convert).
pub type ClosureError = Box<dyn std::error::Error + Send + Sync>;

/// A closure's error as the cause of [`AdError::Closure`]: kept whole (reachable through
/// `source()` and [`ClosureCause::error`]), shared so that `AdError` stays `Clone`. Two
/// causes are equal when they are the same error value.
#[derive(Debug, Clone)]
pub struct ClosureCause(pub Arc<dyn std::error::Error + Send + Sync>);

impl ClosureCause {
    /// The caller's error (downcast it to the type the closure returned).
    pub fn error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Display for ClosureCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ClosureCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for ClosureCause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The caller supplies the Jacobian products (e.g. from PyTorch or JAX through FFI):
/// `products(x, seeds, out)` writes J·S (m×p row-major) and `value(x, out)` writes F(x).
pub struct ClosureJacobian<V, P> {
    value: V,
    products: P,
    n: usize,
    m: usize,
}

impl<V, P> ClosureJacobian<V, P>
where
    V: FnMut(&[f64], &mut [f64]) -> Result<(), ClosureError>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), ClosureError>,
{
    /// A backend from two closures for F: Rⁿ → Rᵐ.
    pub fn new(value: V, products: P, n: usize, m: usize) -> Self {
        Self {
            value,
            products,
            n,
            m,
        }
    }
}

impl<V, P> JacobianBackend for ClosureJacobian<V, P>
where
    V: FnMut(&[f64], &mut [f64]) -> Result<(), ClosureError>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), ClosureError>,
{
    fn name(&self) -> &'static str {
        "closure"
    }

    fn dims(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    fn value(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError> {
        check_len("x", x.len(), self.n)?;
        check_len("output buffer", out.len(), self.m)?;
        (self.value)(x, out).map_err(|e| AdError::Closure {
            cause: ClosureCause(e.into()),
        })?;
        check_finite("output", out)
    }

    fn jvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        products(&mut self.products, x, self.n, self.m, seeds, out)
    }
}

/// The caller supplies the Hessian products: `products(x, seeds, out)` writes H·S (n×p
/// row-major) and `value(x)` gives f(x).
pub struct ClosureHessian<V, P> {
    value: V,
    products: P,
    n: usize,
}

impl<V, P> ClosureHessian<V, P>
where
    V: FnMut(&[f64]) -> Result<f64, ClosureError>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), ClosureError>,
{
    /// A backend from two closures for f: Rⁿ → R.
    pub fn new(value: V, products: P, n: usize) -> Self {
        Self { value, products, n }
    }
}

impl<V, P> HessianBackend for ClosureHessian<V, P>
where
    V: FnMut(&[f64]) -> Result<f64, ClosureError>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), ClosureError>,
{
    fn name(&self) -> &'static str {
        "closure"
    }

    fn dim(&self) -> usize {
        self.n
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, AdError> {
        check_len("x", x.len(), self.n)?;
        let v = (self.value)(x).map_err(|e| AdError::Closure {
            cause: ClosureCause(e.into()),
        })?;
        check_finite("output", &[v])?;
        Ok(v)
    }

    fn hvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        products(&mut self.products, x, self.n, self.n, seeds, out)
    }
}

/// The caller's products of a block (`rows` × p) for n inputs: the lengths are checked
/// first, the values after.
fn products<P>(
    products: &mut P,
    x: &[f64],
    n: usize,
    rows: usize,
    seeds: SeedBlock<'_>,
    out: &mut [f64],
) -> Result<(), AdError>
where
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), ClosureError>,
{
    check_len("x", x.len(), n)?;
    check_seeds(seeds, n)?;
    check_len("product buffer", out.len(), rows * seeds.probes())?;
    products(x, seeds, out).map_err(|e| AdError::Closure {
        cause: ClosureCause(e.into()),
    })?;
    check_finite("product", out)
}

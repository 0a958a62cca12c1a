//! Backends whose products the caller computes (PyTorch, JAX, a GPU code through FFI).

use super::{
    AdError, HessianBackend, JacobianBackend, SeedBlock, check_finite, check_len, check_seeds,
};

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
    V: FnMut(&[f64], &mut [f64]) -> Result<(), String>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), String>,
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
    V: FnMut(&[f64], &mut [f64]) -> Result<(), String>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), String>,
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
        (self.value)(x, out).map_err(|message| AdError::Closure { message })?;
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
    V: FnMut(&[f64]) -> Result<f64, String>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), String>,
{
    /// A backend from two closures for f: Rⁿ → R.
    pub fn new(value: V, products: P, n: usize) -> Self {
        Self { value, products, n }
    }
}

impl<V, P> HessianBackend for ClosureHessian<V, P>
where
    V: FnMut(&[f64]) -> Result<f64, String>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), String>,
{
    fn name(&self) -> &'static str {
        "closure"
    }

    fn dim(&self) -> usize {
        self.n
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, AdError> {
        check_len("x", x.len(), self.n)?;
        let v = (self.value)(x).map_err(|message| AdError::Closure { message })?;
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
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), String>,
{
    check_len("x", x.len(), n)?;
    check_seeds(seeds, n)?;
    check_len("product buffer", out.len(), rows * seeds.probes())?;
    products(x, seeds, out).map_err(|message| AdError::Closure { message })?;
    check_finite("product", out)
}

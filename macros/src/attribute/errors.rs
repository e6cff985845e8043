//! Collecting several errors, so that the user sees every mistake at once.

/// Errors found so far, combined into one `syn::Error`.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds an error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Adds the error of `result`, if any.
    pub(crate) fn check<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// `Ok(value)` if no error was added.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(errors) => Err(errors),
            None => Ok(value),
        }
    }
}

/// What an attribute emits after a mistake: `item` (as written, or as the user meant it, so
/// that its callers add no errors of their own), then the errors of `result`.
pub(crate) fn with_errors(
    mut item: proc_macro2::TokenStream,
    result: syn::Result<()>,
) -> proc_macro2::TokenStream {
    if let Err(errors) = result {
        item.extend(errors.to_compile_error());
    }
    item
}

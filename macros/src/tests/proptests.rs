//! Property tests: whatever fn item and arguments the three attributes are given, they
//! never panic. Each expansion either parses as items or carries a `compile_error!`, and
//! when the item was a fn, it is there in the output in any case (the user sees their
//! mistake, not a cascade of errors about a missing fn).
//!
//! Inputs are put together as text from fragments of Rust's grammar (attributes,
//! visibilities, qualifiers, generics, receivers, patterns, types, return types, `where`
//! clauses, bodies; arguments right and wrong), some of them then mutated token by token,
//! and lexed into tokens as the compiler would hand them over.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use proc_macro2::{Span, TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestRunner};
use syn::{Item, ItemFn, LitStr};

/// Generated inputs per test unless `PROPTEST_CASES` says otherwise; each goes through the
/// three attributes. Chosen to keep each test at a few seconds in a debug build.
const CASES: u32 = 2_500;

/// Fragments of one part of a fn: the plain ones, which the attributes take, drawn nine
/// times as often as the odd ones (wrong for an attribute, or for Rust): with a dozen parts
/// to a fn, most fns then have one or two odd parts, and many none.
struct Fragments {
    plain: &'static [&'static str],
    odd: &'static [&'static str],
}

/// One fragment of `fragments`.
fn pick(fragments: &'static Fragments) -> BoxedStrategy<&'static str> {
    prop_oneof![
        9 => select(fragments.plain),
        1 => select(fragments.odd),
    ]
    .boxed()
}

const OUTER_ATTRIBUTES: Fragments = Fragments {
    plain: &[
        "/// Docs.",
        "#[doc = \"x\"]",
        "#[inline]",
        "#[must_use]",
        "#[must_use = \"why\"]",
        "#[cfg(test)]",
        "#[cfg_attr(test, inline)]",
        "#[allow(unused)]",
        "#[deprecated(note = \"old\")]",
        "#[doc(hidden)]",
        "#[track_caller]",
    ],
    odd: &[
        "#[test]",
        "#[tokio::test]",
        "#[::core::prelude::v1::test]",
        "#[::tokio::test]",
        "#[offload]",
        "#[no_block]",
        "#[blocking]",
        "#[a::b::c(d = e, f)]",
        "#[unsafe(no_mangle)]",
        "#[export_name = \"x\"]",
        "#![inner]",
        "#[]",
        "#",
    ],
};

const VISIBILITIES: Fragments = Fragments {
    plain: &[
        "",
        "",
        "pub",
        "pub(crate)",
        "pub(super)",
        "pub(in crate::m)",
    ],
    odd: &["pub(self)", "crate", "pub(x)", "priv"],
};

const QUALIFIERS: Fragments = Fragments {
    plain: &["", "", "async", "async", "unsafe", "async unsafe"],
    odd: &[
        "const",
        "extern",
        "extern \"C\"",
        "extern \"Rust\"",
        "const unsafe",
        "const async",
        "unsafe extern \"C\"",
        "async extern \"C\"",
        "safe",
        "default",
        "async async",
    ],
};

const NAMES: Fragments = Fragments {
    plain: &[
        "f",
        "load_user",
        "r#type",
        "r#async",
        "_f",
        "main",
        "données",
    ],
    odd: &[
        "__offload_arg0",
        "__offload_at",
        "__offload_body",
        "__offload_return",
        "__OFFLOAD_SITE",
        "r#self",
    ],
};

const GENERICS: Fragments = Fragments {
    plain: &[
        "",
        "",
        "<T>",
        "<T: Send + 'static>",
        "<const N: usize>",
        "<T: Clone + Send + 'static, const N: usize>",
        "<F: Fn(&u8) -> u8 + Send + 'static>",
    ],
    odd: &[
        "<'a>",
        "<'a, 'b: 'a>",
        "<'a, T: 'a>",
        "<T = u8>",
        "<T: ?Sized>",
        "<T: for<'x> Tr<'x>>",
        "<'static>",
        "<_>",
        "<T, >",
        "<impl Send>",
        "<'a, const N: usize, T>",
        "<'_>",
    ],
};

const RECEIVERS: Fragments = Fragments {
    plain: &[
        "",
        "",
        "",
        "self",
        "mut self",
        "self: Arc<Self>",
        "self: Box<Self>",
        "mut self: Box<Self>",
        "self: Self",
    ],
    odd: &[
        "&self",
        "&mut self",
        "&'a self",
        "&'a mut self",
        "&'static self",
        "self: &Self",
        "self: &'static Self",
        "self: Pin<&mut Self>",
        "self: Rc<Self>",
        "#[cfg(test)] self",
        "self: Self<'a>",
    ],
};

const PARAMETER_ATTRIBUTES: Fragments = Fragments {
    plain: &[""],
    odd: &[
        "#[cfg(test)]",
        "#[allow(unused)]",
        "#[cfg(test)] #[allow(unused)]",
    ],
};

const PATTERNS: Fragments = Fragments {
    plain: &[
        "x",
        "y",
        "mut x",
        "_",
        "_x",
        "(a, b)",
        "(a, _)",
        "[a, b]",
        "S { a, b }",
        "S(a)",
        "mut _y",
        "r#in",
        "(mut a, b)",
    ],
    odd: &[
        "[first, ..]",
        "S { a: mut b, .. }",
        "ref x",
        "ref mut x",
        "x @ _",
        "&x",
        "&mut x",
        "(mut a, ref b)",
        "Some(x)",
        "..",
        "1",
        "\"s\"",
        "x | y",
        "(x)",
        "A::B",
        "self",
        "__offload_arg0",
        "value",
    ],
};

const TYPES: Fragments = Fragments {
    plain: &[
        "u8",
        "String",
        "(u8, u16)",
        "()",
        "T",
        "Vec<u8>",
        "Arc<Mutex<T>>",
        "[u8; N]",
        "Option<u8>",
        "Cow<'static, str>",
        "&'static str",
        "Box<dyn Fn() + Send>",
        "fn(&u8) -> &u8",
        "for<'b> fn(&'b u8)",
        "Box<dyn for<'x> Fn(&'x u8) + Send>",
        "Pin<Box<dyn Future<Output = ()> + Send>>",
        "<T as Tr>::Out",
        "(u8,)",
        "m!()",
    ],
    odd: &[
        "&str",
        "&'a str",
        "&mut Vec<u8>",
        "Vec<&'a u8>",
        "Cow<'a, str>",
        "impl Fn()",
        "impl Iterator<Item = &'a u8>",
        "impl Send + 'static",
        "dyn Trait",
        "*const u8",
        "*mut T",
        "!",
        "Self",
        "Option<impl Send>",
        "&[u8]",
        "&Path",
        "&std::path::Path",
        "&OsStr",
        "&CStr",
        "_",
        "&&u8",
        "&'a mut &'b T",
        "[&'a str]",
        "&dyn Fn()",
        "&'_ str",
        "Foo<'_>",
        "impl for<'a> Fn(&'a u8)",
        "[u8]",
        "T::Assoc<'a>",
    ],
};

const VARIADICS: Fragments = Fragments {
    plain: &[""],
    odd: &[", ...", ", args: ...", "..."],
};

const RETURNS: Fragments = Fragments {
    plain: &[
        "",
        "",
        "-> u8",
        "-> ()",
        "-> T",
        "-> Result<u8, E>",
        "-> Option<(u8, Vec<u8>)>",
        "-> Box<Self>",
        "-> [u8; N]",
        "-> fn()",
        "-> &'static str",
        "-> Result<Vec<u8>, Box<dyn Error + Send + Sync>>",
        "-> impl Send",
        "-> impl Future<Output = u8>",
        "-> Result<impl Send, E>",
        "-> Option<(u8, Vec<impl Send>)>",
    ],
    odd: &[
        "-> !",
        "-> Self",
        "-> &str",
        "-> &'a str",
        "-> impl Iterator<Item = T> + 'a",
        "-> dyn Tr",
        "-> Cow<'a, str>",
        "-> _",
        "-> impl Fn(&u8) -> &u8",
        "-> &'_ [u8]",
        "->",
    ],
};

const WHERE_CLAUSES: Fragments = Fragments {
    plain: &[
        "",
        "",
        "",
        "where T: Clone",
        "where Self: Sized",
        "where T: Send,",
    ],
    odd: &[
        "where 'a: 'b",
        "where for<'x> &'x T: Tr",
        "where T: 'a,",
        "where",
        "where [(); N]:",
    ],
};

const BODIES: Fragments = Fragments {
    plain: &[
        "{}",
        "{ x }",
        "{ return 1; }",
        "{ a.await }",
        "{ let y = a.await?; y }",
        "{ async { b.await }.await }",
        "{ let c = || d.await; c() }",
        "{ #![allow(unused)] 1 }",
        "{ fn inner() {} inner() }",
        "{ println!(\"{}\", e.await) }",
        "{ loop { break f.await; } }",
        "{ x?.await? }",
        "{ match x.await { _ => 1 } }",
        "{ unsafe { h.await } }",
        "{ self.x.await }",
        "{ return; }",
        "{ async move { 1 } }",
        "{ t.await.await }",
        "{ (u.await, v.await) }",
        "{ let f = async || k.await; f().await }",
    ],
    odd: &[
        "{ (#[allow(unused)] g.await) }",
        "{ const { 1 } }",
        "{ 1 + #[a] y.await }",
        "{ let __offload_at = 1; z.await }",
        "{ let _ = || async { q.await }; }",
        "{ struct S; impl S { async fn m() { r.await } } }",
        "{ #[cfg(test)] s.await; }",
        "{ [w.await; 2] }",
        "{ x.r#await }",
        "{ 'a: { break 'a m.await; } }",
        "{ #![inner] #![inner] }",
        ";",
    ],
};

/// Items that are not fns, and text that is no item at all.
const OTHER_ITEMS: &[&str] = &[
    "struct S;",
    "struct S { a: u8 }",
    "enum E { A }",
    "union U { a: u8 }",
    "trait T { fn f(&self); }",
    "impl S { fn f() {} }",
    "impl Trait for S {}",
    "mod m {}",
    "mod m;",
    "const X: u8 = 1;",
    "static S: u8 = 0;",
    "type T = u8;",
    "use a::b;",
    "extern crate c;",
    "extern \"C\" { fn f(); }",
    "trait A = B;",
    "m! {}",
    "macro_rules! m { () => {} }",
    "",
    "x y z",
    "fn",
    "fn f",
    "fn f()",
    "async fn f();",
    "#[inline]",
    "let x = 1;",
    "1 + 2",
    "{ }",
    "pub",
    "'a",
    "\"lit\"",
    "# [ test ] # [ test ]",
];

/// Tokens a mutation inserts.
const STRAY_TOKENS: &[&str] = &[
    "&", "'a", "self", "async", ",", "mut", "impl", "dyn", "(..)", "<", ">", "->", "where", "?",
    "!", "#", "[x]", "{}", "::", "const", "unsafe", "extern", "\"C\"", ".await", "_", "..", ";",
    "fn", "=", "'static", "(", ")",
];

/// Arguments each attribute takes.
const OFFLOAD_ARGUMENTS: &[&str] = &[
    "",
    "pool = \"db\"",
    "crate = \"my::offload\"",
    "pool = \"db\", crate = \"::x::offload\"",
    "pool = \"cpu\",",
    "fallible",
    "pool = \"db\", fallible, crate = \"::x::offload\"",
];
const NO_BLOCK_ARGUMENTS: &[&str] = &[
    "",
    "threshold = \"2ms\"",
    "crate = \"my::offload\"",
    "threshold = \"250us\", crate = \"x\"",
];
const BLOCKING_ARGUMENTS: &[&str] = &["", "crate = \"my::offload\"", "crate = \"::a::b\","];

/// Pieces of arguments, right and wrong, for any attribute.
const ARGUMENT_FRAGMENTS: &[&str] = &[
    "pool = \"db\"",
    "pool = \"\"",
    "pool = \"default\"",
    "pool = db",
    "pool",
    "pool(\"db\")",
    "pool =",
    "pool = 1",
    "pool = \"a\" \"b\"",
    "fallible",
    "fallible = true",
    "fallible(x)",
    "\"db\"",
    "crate = \"my::offload\"",
    "crate = \"::a::b\"",
    "crate = \"offload\"",
    "crate = \"not a path\"",
    "crate = \"\"",
    "crate = 1",
    "crate",
    "crate = \"crate\"",
    "crate = \"self::x\"",
    "crate = \"a<b>\"",
    "crate = \"::\"",
    "crate = \"(\"",
    "threshold = \"2ms\"",
    "threshold = \"0ms\"",
    "threshold = \"1µs\"",
    "threshold = \"x\"",
    "threshold = 2",
    "threshold",
    "threshold = \"99999999999999999999s\"",
    "threshold = \"18446744073709551615ns\"",
    "threshold = \"18446744073709551615s\"",
    "threshold = r\"2ms\"",
    "threshold = b\"2ms\"",
    "threshold = \"2ms\" + 1",
    "unknown = 1",
    "a::b = 1",
    "r#pool = \"db\"",
    "pool = concat!(\"a\")",
    "= \"x\"",
    "(pool = \"db\")",
    "pool = \"db\" extra",
    "#",
    "?",
    "'a",
    "pool = r#\"raw\"#",
    "pool = \"\\u{0}\"",
    "pool = \"a b\"",
    "pool = 'c'",
    "crate = \"💥\"",
    "crate = \"// c\"",
    "crate = \"a::\"",
    "crate = \"super::super\"",
    "crate = \"a::self\"",
    "crate = \"_\"",
    "crate = \"r#type\"",
    "crate = \"Self\"",
];

/// What one input is: arguments for each attribute, and the item.
#[derive(Clone, Debug)]
struct Input {
    offload: String,
    no_block: String,
    blocking: String,
    item: String,
}

/// Arguments for an attribute: mostly ones it takes, often a random mix.
fn arguments(valid: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(valid).prop_map(str::to_owned),
        2 => (
            prop::collection::vec(select(ARGUMENT_FRAGMENTS), 0..4),
            select(&[", ", ",", " ", ", ,"][..]),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(parts, separator, trailing)| {
                let mut text = parts.join(separator);
                if trailing {
                    text.push(',');
                }
                text
            }),
    ]
    .boxed()
}

/// One parameter: attribute, pattern and type.
fn parameter() -> impl Strategy<Value = String> {
    (pick(&PARAMETER_ATTRIBUTES), pick(&PATTERNS), pick(&TYPES))
        .prop_map(|(attribute, pattern, ty)| format!("{attribute} {pattern}: {ty}"))
}

/// A fn item put together from the grammar's fragments.
fn fn_item() -> impl Strategy<Value = String> {
    let head = (
        prop::collection::vec(pick(&OUTER_ATTRIBUTES), 0..3),
        pick(&VISIBILITIES),
        pick(&QUALIFIERS),
        pick(&NAMES),
        pick(&GENERICS),
    );
    let tail = (
        pick(&RECEIVERS),
        prop::collection::vec(parameter(), 0..4),
        pick(&VARIADICS),
        prop::bool::weighted(0.2),
        pick(&RETURNS),
        pick(&WHERE_CLAUSES),
        pick(&BODIES),
    );
    (head, tail).prop_map(
        |(
            (attributes, visibility, qualifiers, name, generics),
            (receiver, parameters, variadic, trailing, output, where_clause, body),
        )| {
            let mut inputs: Vec<String> = Vec::new();
            if !receiver.is_empty() {
                inputs.push(receiver.to_owned());
            }
            inputs.extend(parameters);
            let mut inputs = inputs.join(", ");
            inputs.push_str(variadic);
            if trailing && !inputs.is_empty() {
                inputs.push(',');
            }
            let attributes: String = attributes.iter().map(|a| format!("{a}\n")).collect();
            format!(
                "{attributes}{visibility} {qualifiers} fn {name}{generics}({inputs}) {output} \
                 {where_clause} {body}"
            )
        },
    )
}

/// A change to the top-level tokens of an item.
#[derive(Clone, Debug)]
enum Mutation {
    Delete(Index),
    Insert(Index, &'static str),
    Swap(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::Delete),
        (any::<Index>(), select(STRAY_TOKENS)).prop_map(|(at, token)| Mutation::Insert(at, token)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

/// `item` with `mutations` applied to its top-level tokens; `None` if it does not lex.
fn mutated(item: &str, mutations: &[Mutation]) -> Option<String> {
    let mut tokens: Vec<TokenStream> = item
        .parse::<TokenStream>()
        .ok()?
        .into_iter()
        .map(TokenStream::from)
        .collect();
    for mutation in mutations {
        match mutation {
            Mutation::Delete(at) if !tokens.is_empty() => {
                tokens.remove(at.index(tokens.len()));
            }
            Mutation::Insert(at, token) => {
                tokens.insert(at.index(tokens.len() + 1), token.parse().ok()?);
            }
            Mutation::Swap(a, b) if !tokens.is_empty() => {
                let len = tokens.len();
                tokens.swap(a.index(len), b.index(len));
            }
            _ => {}
        }
    }
    Some(tokens.into_iter().collect::<TokenStream>().to_string())
}

/// An item: a generated fn (a third of them mutated), or something else.
fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => fn_item(),
        3 => (fn_item(), prop::collection::vec(mutation(), 1..4))
            .prop_map(|(item, mutations)| mutated(&item, &mutations).unwrap_or(item)),
        1 => select(OTHER_ITEMS).prop_map(str::to_owned),
    ]
}

fn input() -> impl Strategy<Value = Input> {
    (
        arguments(OFFLOAD_ARGUMENTS),
        arguments(NO_BLOCK_ARGUMENTS),
        arguments(BLOCKING_ARGUMENTS),
        item(),
    )
        .prop_map(|(offload, no_block, blocking, item)| Input {
            offload,
            no_block,
            blocking,
            item,
        })
}

/// What the inputs and expansions were, for the report at the end of a test.
#[derive(Debug, Default)]
struct Tally {
    /// Inputs generated and tried.
    inputs: u64,
    /// Inputs whose text did not lex into tokens (the compiler would not have called the
    /// attribute): skipped.
    not_lexed: u64,
    /// Items that parse as a fn with a body.
    fns: u64,
    /// Expansions run, over the three attributes.
    expansions: u64,
    /// Expansions without an error.
    expanded: u64,
    /// Expansions with errors, and the errors they held.
    refused: u64,
    errors: u64,
    /// Errors pointing at a token of the input, and at the attribute itself (for an item
    /// with nothing else to point at).
    errors_on_input: u64,
    errors_on_attribute: u64,
}

/// The `compile_error!`s in `tokens`, at any depth: where each points, and its message.
fn compile_errors(tokens: TokenStream, found: &mut Vec<(Span, String)>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (at, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if ident == "compile_error" => {
                let message = match tokens.get(at + 2) {
                    Some(TokenTree::Group(group)) => syn::parse2::<LitStr>(group.stream())
                        .map(|message| message.value())
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                found.push((ident.span(), message));
            }
            TokenTree::Group(group) => compile_errors(group.stream(), found),
            _ => {}
        }
    }
}

/// Whether `item` has a token other than outer attributes (`#` and `[...]`).
fn has_keyword(item: &TokenStream) -> bool {
    item.clone().into_iter().any(|token| match token {
        TokenTree::Punct(punct) => punct.as_char() != '#',
        TokenTree::Group(group) => group.delimiter() != proc_macro2::Delimiter::Bracket,
        TokenTree::Ident(_) | TokenTree::Literal(_) => true,
    })
}

/// The fns among `items`.
fn fns(items: &[Item]) -> Vec<&ItemFn> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Fn(function) => Some(function),
            _ => None,
        })
        .collect()
}

/// Runs one attribute on one input and checks what came out.
fn check(
    attribute: &str,
    expand: fn(TokenStream, TokenStream) -> TokenStream,
    args: &TokenStream,
    item: &TokenStream,
    tally: &mut Tally,
) -> Result<(), TestCaseError> {
    let output = catch_unwind(AssertUnwindSafe(|| expand(args.clone(), item.clone())))
        .map_err(|_| TestCaseError::fail(format!("#[{attribute}] panicked")))?;
    tally.expansions += 1;
    let mut errors = Vec::new();
    compile_errors(output.clone(), &mut errors);
    let parsed = syn::parse2::<syn::File>(output.clone());
    let function = syn::parse2::<ItemFn>(item.clone()).ok();

    if errors.is_empty() {
        tally.expanded += 1;
        let file = parsed.map_err(|error| {
            TestCaseError::fail(format!(
                "#[{attribute}] gave no error and no items ({error}): {output}"
            ))
        })?;
        let function = function.ok_or_else(|| {
            TestCaseError::fail(format!("#[{attribute}] took a non-fn without an error"))
        })?;
        let made = fns(&file.items);
        // `#[no_block]` and `#[blocking]`: one fn for release builds, one for debug builds;
        // with `release-stalls`, `#[no_block]` makes one for both.
        let expected = match attribute {
            "offload" => 1,
            "no_block"
                if crate::no_block::Release::FROM_FEATURES == crate::no_block::Release::Counted =>
            {
                1
            }
            _ => 2,
        };
        prop_assert_eq!(made.len(), expected, "#[{}]: {}", attribute, output);
        for made in made {
            prop_assert_eq!(&made.sig.ident, &function.sig.ident);
            prop_assert_eq!(made.sig.inputs.len(), function.sig.inputs.len());
            let async_now = made.sig.asyncness.is_some();
            prop_assert_eq!(
                async_now,
                attribute == "offload" || function.sig.asyncness.is_some(),
                "#[{}] made the fn async, or not: {}",
                attribute,
                output
            );
        }
        return Ok(());
    }

    tally.refused += 1;
    for (span, message) in &errors {
        tally.errors += 1;
        prop_assert!(
            !message.is_empty(),
            "#[{}]: an empty error: {}",
            attribute,
            output
        );
        // A span the input's text holds, or the attribute's own (the call site).
        match span.source_text() {
            Some(_) => tally.errors_on_input += 1,
            None => {
                // Only when the item has no token to point at: the compiler never hands
                // an attribute such an item, and then the attribute itself is the place.
                prop_assert!(
                    !has_keyword(item),
                    "#[{}]: the error {:?} points at no token of the input",
                    attribute,
                    message
                );
                tally.errors_on_attribute += 1;
            }
        }
    }
    if let Some(function) = function {
        // The fn is still there, so that its callers add no errors of their own.
        let file = parsed.map_err(|error| {
            TestCaseError::fail(format!(
                "#[{attribute}] refused a fn and emitted no items ({error}): {output}"
            ))
        })?;
        prop_assert!(
            fns(&file.items)
                .iter()
                .any(|made| made.sig.ident == function.sig.ident),
            "#[{}] refused a fn and dropped it: {}",
            attribute,
            output
        );
    }
    Ok(())
}

/// Runs `cases` inputs of `strategy` through the three attributes and returns the tally.
fn run(strategy: impl Strategy<Value = Input>, name: &str) -> Tally {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(CASES);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let tally = RefCell::new(Tally::default());
    let result = runner.run(&strategy, |input| {
        let mut tally = tally.borrow_mut();
        tally.inputs += 1;
        let Ok(item) = input.item.parse::<TokenStream>() else {
            tally.not_lexed += 1;
            return Ok(());
        };
        if syn::parse2::<ItemFn>(item.clone()).is_ok() {
            tally.fns += 1;
        }
        for (attribute, expand, args) in [
            (
                "offload",
                crate::offload::expand as fn(TokenStream, TokenStream) -> TokenStream,
                &input.offload,
            ),
            ("no_block", crate::no_block::expand, &input.no_block),
            ("blocking", crate::blocking::expand, &input.blocking),
        ] {
            let Ok(args) = args.parse::<TokenStream>() else {
                tally.not_lexed += 1;
                continue;
            };
            check(attribute, expand, &args, &item, &mut tally)?;
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let tally = tally.into_inner();
    eprintln!("{name}: {tally:?}");
    tally
}

#[test]
fn generated_fns_never_make_an_attribute_panic() {
    let tally = run(input(), "generated fns");
    assert!(tally.inputs >= u64::from(CASES.min(100)), "{tally:?}");
    // The generator reaches both sides: fns the attributes take, and mistakes.
    assert!(tally.fns > 0 && tally.expanded > 0 && tally.refused > 0);
    assert!(tally.errors_on_input > 0, "{tally:?}");
}

/// An input the generator once found to break an expansion, checked on every run: a crate
/// path through `Self`, which an expression takes and a `use` does not. No path through a
/// type reaches the crate: it is refused, with the error on the user's string.
#[test]
fn a_crate_path_of_self_is_refused_at_its_string() {
    let args = "crate = \"Self\""
        .parse::<TokenStream>()
        .expect("arguments lex");
    let item = "fn f() {}".parse::<TokenStream>().expect("the item lexes");
    let mut tally = Tally::default();
    if let Err(failure) = check("offload", crate::offload::expand, &args, &item, &mut tally) {
        panic!("{failure}");
    }
    assert_eq!((tally.refused, tally.errors_on_input), (1, 1), "{tally:?}");
}

#[test]
fn items_that_are_not_fns_never_make_an_attribute_panic() {
    let other = (
        arguments(OFFLOAD_ARGUMENTS),
        arguments(NO_BLOCK_ARGUMENTS),
        arguments(BLOCKING_ARGUMENTS),
        prop_oneof![
            select(OTHER_ITEMS).prop_map(str::to_owned),
            prop::collection::vec(select(STRAY_TOKENS), 0..12).prop_map(|tokens| tokens.join(" ")),
        ],
    )
        .prop_map(|(offload, no_block, blocking, item)| Input {
            offload,
            no_block,
            blocking,
            item,
        });
    let tally = run(other, "other items");
    assert!(tally.refused > 0, "{tally:?}");
    // Nothing that is not a fn with a body is taken as one.
    assert_eq!(tally.fns, 0, "{tally:?}");
    assert_eq!(tally.expanded, 0, "{tally:?}");
}

/// The span checks above rely on spans of lexed text knowing their source (proc-macro2's
/// `span-locations`); if they did not, every error would look like the attribute's.
#[test]
fn spans_of_lexed_text_know_their_source() {
    let tokens: TokenStream = "fn f() {}".parse().unwrap();
    let first = tokens.into_iter().next().unwrap();
    assert_eq!(first.span().source_text().as_deref(), Some("fn"));
    assert!(Span::call_site().source_text().is_none());
}

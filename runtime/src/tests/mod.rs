//! Property tests of every parser of the runtime, kept out of the production files.

mod proptests;

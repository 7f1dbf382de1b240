//! The layers' mathematics: each file holds one layer kind, its forward pass and its backward pass.
//!
//! The functions work on slices whose lengths were validated when the network was planned, so they
//! iterate with `zip` rather than index. Backward passes *accumulate* into parameter gradients;
//! zeroing them is the caller's explicit step.

pub mod activation;
pub mod batch_norm;
pub mod dense;
pub mod dropout;
pub mod needs;

pub use activation::Activation;
pub use needs::Needs;

//! The examples that check themselves run here too, so CI proves them.

#[path = "../examples/custom_pieces.rs"]
mod custom_pieces;

#[test]
fn custom_pieces_agree_with_the_tape_hessian() {
    custom_pieces::main().expect("every custom piece reproduces the tape Hessian");
}

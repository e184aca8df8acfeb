// Package detect is riptide's anomaly detector core: a ν one-class support
// vector machine with an RBF kernel, the preprocessing that feeds it, and the
// self-describing model that the detector processor loads and scores with.
//
// The package is pure: it imports only the standard library and gonum, and
// knows nothing about Kafka, goka or the window schema beyond a list of
// feature names. The same code serves live scoring, replays and backtests.
//
// # Layers
//
// [FitOCSVM] is the low-level solver. It solves the ν one-class dual exactly
// as LIBSVM (svm-train -s 2) does: LIBSVM's initial α, second-order working
// set selection (Fan, Chen and Lin 2005), stopping tolerance 1e-3 and ρ as the
// mean gradient over free α. Kernel rows are kept in a bounded LRU cache, so
// training scales to several thousand samples. Its decision values agree with
// scikit-learn's OneClassSVM.decision_function within 1e-3 (see testdata).
//
// [Fit] adds preprocessing (optional signed log1p, standard scaling with
// statistics of the training data, clipping to ±10) and γ = "scale", and
// returns a [Model]. [Train] additionally subsamples the training set
// deterministically and calibrates the alert threshold out of sample:
// repeated k-fold, every held-out fold scored by a model that did not see it,
// threshold at the target false-positive quantile of the pooled scores.
//
// # Scores
//
// [Model.Decision] is LIBSVM's decision value f(x) = Σ αᵢ K(svᵢ, x) − ρ.
// [Model.Score] is log(Σ αᵢ K(svᵢ, x)) − log ρ, computed with a streaming
// log-sum-exp: it has the sign of f but keeps ranking points far from all
// support vectors, where f flattens at −ρ. A window is anomalous when its
// Score is below the model's calibrated Threshold ([Model.IsAnomaly]).
// Scoring does not allocate for up to 128 features and is safe for
// concurrent use.
//
// # Models
//
// A [Model] is immutable once trained and serialises to versioned JSON
// ([WriteModel], [ReadModel]); it carries its feature names and schema id
// ([Model.Check]), preprocessing, hyper-parameters, support vectors,
// threshold, training range and raw per-feature statistics for
// [Model.Explain].
//
// # Random features and the streaming challenger
//
// [RFF] maps inputs to random Fourier features whose inner products
// approximate the RBF kernel; [NewSORF] draws structured orthogonal ones
// (Walsh-Hadamard based, O(D log N) per row). [FitSGDOneClass] trains a
// linear one-class SVM on them by averaged SGD and [FitPegasos] a
// class-weighted linear SVM. [NewChallenger] trains the one-class RFF model
// that shadows an exact window [Model] with its ν and γ; [OneClass] scores
// both side by side.
//
// # Labelled data
//
// [ReadTable] reads labelled CSV (with a header, a list of names, or
// NSL-KDD's header-less layout, recognised). [FitTabular] infers an
// [Encoding] (one-hot categorical columns with their vocabulary, log1p on
// non-negative counts), chooses ν, γ, the scorer and the threshold on the
// training table alone, and returns a self-describing [TabularModel]:
// one-class on the normal rows, or supervised (Pegasos on random features)
// with the one-class detector for attacks it has not seen. [Evaluate]
// computes precision, recall, F1, accuracy, ROC AUC and average precision.
package detect

// Quantitative GAN metrics (issue #6): pure float64 computation on feature matrices, class
// probabilities and images. Conventions follow the reference implementations named per module.
export { asMatrix, meanAndCovariance, columnMeans, cholesky, symmetricEigenvalues, symmetricEigen, traceSqrtProduct } from './linalg.ts';
export type { Matrix, MeanCov, SymmetricEigen, TraceSqrtResult, TraceSqrtRoute } from './linalg.ts';
export { fidFromFeatures, fidFromFeaturesDetailed, fidFromStats, fidFromStatsDetailed, featureMatchingDistance } from './fid.ts';
export type { FidDetail } from './fid.ts';
export { kernelInceptionDistance, kernelInceptionDistanceAsync, polynomialMmd2 } from './kid.ts';
export type { KidOptions, KidResult } from './kid.ts';
export { inceptionScore } from './inception-score.ts';
export type { InceptionScoreResult } from './inception-score.ts';
export { manifoldScores, manifoldScoresAsync, improvedPrecisionRecall, prdc, f1Score } from './precision-recall.ts';
export type { ManifoldScores, PrecisionRecall, Prdc } from './precision-recall.ts';
export { prdFromFeatures, prdFromHistograms, maxFBetaPair, fBeta, kMeans } from './prd.ts';
export type { PrdCurve, PrdResult } from './prd.ts';
export { slicedWassersteinDistance, swdResolutions } from './swd.ts';
export type { Images, SwdResult } from './swd.ts';
export { modeCoverage, modeCoverageFromCounts, predictedClassCounts, klDivergence, mixtureModeCoverage } from './modes.ts';
export type { ModeCoverage, MixtureCoverage } from './modes.ts';
export { nearestNeighbours, memorisationShare } from './nearest.ts';
export type { Neighbours, Memorisation } from './nearest.ts';
export { nearestSquared, forEachDistanceBlock, distanceBlocks, TopK } from './knn.ts';
export type { Precision } from './knn.ts';
export { runSync, runAsync } from './gram32.ts';
export type { Progress, RunControl } from './gram32.ts';
export { parseNpy, encodeNpy, NpyError } from './npy.ts';
export type { NpyArray, NpyDtype } from './npy.ts';

// Which frame pairs the star photometry measures: a sparse, connected subset of the overlap graph.
//
// Every overlapping pair (centre distance <= sum of footprint radii) would cost O(n^2) star matchings (500k for
// 1000 frames at one pointing), while the log-gain least squares is already determined by a few neighbours per
// frame. So each frame keeps its k nearest overlapping frames. In a mosaic of deep pointings those are all dithers
// of its own pointing, and the gains from pointing to pointing, which the all-pairs graph tied by thousands of
// pairs, would rest on a few links: already on the simulator's 2x2 mosaic (6 frames per pointing) the quadrants'
// gains disagreed by 1.04 %, against 0.50 % with all pairs. So each frame also keeps, in each of 8 bearing
// sectors, its 2 nearest overlapping frames beyond a quarter of its radius (a neighbouring pointing's): 0.63 % there
// (one per sector: 0.79 %; three: 0.63 %). Where the graph is still in pieces that the overlap graph joins, the
// closest overlapping pair between each piece and the rest is added (Boruvka rounds), so that no frame loses its
// path to the anchor. A k-d tree on unit vectors keeps the selection near O(n log n): 10000 frames in ~0.1-0.4 s.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "wcs/wcs.hpp"

namespace zm {

inline constexpr int kPhotometryNeighbours = 8;
inline constexpr int kPerSector = 2;  // sector picks per bearing sector
// Up to this many frames every overlapping pair is measured (at most ~20k star matchings, well under a second).
inline constexpr int kAllPairsMaxFrames = 200;

// Centre distance that ranks neighbours: angular_distance_deg with the two centres in (ra, dec) order, so that it
// is symmetric to the bit and equal geometry gives exactly equal distances (ties then fall to the lower index).
double centre_distance_deg(SkyCoord a, SkyCoord b);

// The overlap test of the all-pairs loop this replaces, to the bit: angular_distance_deg(centres[min(i, j)],
// centres[max(i, j)]) <= radii[i] + radii[j]; false for a NaN centre.
bool footprints_overlap(const std::vector<SkyCoord>& centres, const std::vector<double>& radii_deg, int i, int j);

// For each frame, up to k frames whose footprint overlaps its own, nearest first (ties by index). Frames with a
// non-finite centre or radius overlap nothing. Deterministic; O(n log n) for spread-out or clustered centres alike.
std::vector<std::vector<int>> nearest_overlapping(const std::vector<SkyCoord>& centres,
                                                  const std::vector<double>& radii_deg, int k);

// For each frame, in each of 8 bearing sectors (45 deg wide, centred on N, NE, E, ...), the per_sector nearest
// frames that overlap it and lie farther than a quarter of its radius (nearest by chord, ties by index); at most
// 8 x per_sector, listed by sector.
std::vector<std::vector<int>> sector_overlapping(const std::vector<SkyCoord>& centres,
                                                 const std::vector<double>& radii_deg, int per_sector = kPerSector);

// The pairs (i < j) to measure, sorted: the union of every frame's nearest_overlapping(k) and sector_overlapping
// (at most k + 16 chosen per frame), plus, for each connected piece of that graph that overlaps another piece, the
// closest overlapping pair (by centre distance, then indices) linking it to the rest, repeated until no overlapping
// pair joins two pieces. With at most all_pairs_max_frames frames (or n - 1 <= k) it is every overlapping pair:
// on the validation matrix (24 frames) Mosaic-First's quadrant spread 0.59 / 0.78 / 0.58 % (seeds 23-25) with the
// sparse selection, 0.52 / 0.77 / 0.50 % with all pairs.
// k < 1 counts as 1. Throws std::invalid_argument when the two vectors differ in size.
std::vector<std::pair<int, int>> photometry_pairs(const std::vector<SkyCoord>& centres,
                                                  const std::vector<double>& radii_deg,
                                                  int k = kPhotometryNeighbours,
                                                  int all_pairs_max_frames = kAllPairsMaxFrames);

// Pairs that fail to measure (too few common stars) can split the graph that photometry_pairs kept connected.
// Given the pairs that measured and those already tried, tries further overlapping pairs between the pieces (each
// frame's k nearest overlapping frames, closest pairs first, ties by indices) through measure(i, j) until the
// pieces are joined or none is left; a pair is tried only while its two frames are still in different pieces.
// Returns the pairs that measured, in the order tried. Serial and deterministic.
std::vector<std::pair<int, int>> relink_pairs(const std::vector<SkyCoord>& centres,
                                              const std::vector<double>& radii_deg,
                                              const std::vector<std::pair<int, int>>& measured,
                                              const std::vector<std::pair<int, int>>& tried,
                                              const std::function<bool(int, int)>& measure, int k = 32);

}  // namespace zm

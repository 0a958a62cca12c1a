// Same-run comparison driver: ColPack's distance-2 colouring of a symmetric pattern
// (papers/colorings.md, "Distance-2 against ColPack").
//
// Not part of any cargo build or CI: cargo only discovers `benches/*.rs` and
// `benches/*/main.rs`, and nothing here is listed in a Cargo.toml.
//
// Build, outside the repository (ColPack from github:CSCsw/ColPack unpacked in $COLPACK;
// serial, no OpenMP; the utilities pull in the bipartite and recovery classes):
//
//   CP=$COLPACK/src
//   INC="-I$COLPACK/inc -I$CP/GeneralGraphColoring -I$CP/Utilities \
//        -I$CP/BipartiteGraphBicoloring -I$CP/BipartiteGraphPartialColoring -I$CP/Recovery"
//   g++ -O3 -DNDEBUG -std=c++14 -w $INC d2_driver.cpp \
//       $CP/GeneralGraphColoring/*.cpp $CP/Utilities/*.cpp $CP/BipartiteGraphBicoloring/*.cpp \
//       $CP/BipartiteGraphPartialColoring/*.cpp $CP/Recovery/*.cpp -o colpack_d2
//
// Inputs: `sparsediff color SPEC --problem symmetric --method d2 --write-mtx FILE.mtx`.
//
// Run:
//
//   colpack_d2 FILE.mtx [ORDER ...] [--check] [--out PREFIX]
//
// ORDER is any ColPack ordering name (NATURAL, SMALLEST_LAST, DISTANCE_TWO_SMALLEST_LAST,
// ...; default NATURAL SMALLEST_LAST). The file is read once into ColPack's adjacency
// graph (ReadMatrixMarketAdjacencyGraph, diagonal dropped; not timed). Then, for each
// order, GraphOrdering::OrderVertices and GraphColoring::DistanceTwoColoring are called
// and timed separately with std::chrono::steady_clock (wall time: order_s, color_s);
// cp_order_s and cp_color_s are the same intervals by clock(), the process CPU time that
// ColPack's own Timer reports. One JSON line per order on standard output:
//   {"order":..., "n":..., "colors":..., "order_s":..., "color_s":..., "total_s":...,
//    "cp_order_s":..., "cp_color_s":..., "valid":...}
// --check runs an independent distance-2 check on the CSR graph (not timed; "valid" is
// null without it); --out PREFIX writes the colours, one per line, to PREFIX.ORDER.txt.

#include "ColPackHeaders.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

using namespace ColPack;

// Public access to the protected CSR arrays of ColPack's graph.
class Driver : public GraphColoring {
 public:
  const std::vector<int>& vertices() const { return m_vi_Vertices; }
  const std::vector<int>& edges() const { return m_vi_Edges; }
  const std::vector<int>& colors() const { return m_vi_VertexColors; }
};

// Every pair of vertices at distance 1 or 2 has different colours (via every middle vertex).
static bool check_d2(const Driver& g) {
  const std::vector<int>& v = g.vertices();
  const std::vector<int>& e = g.edges();
  const std::vector<int>& c = g.colors();
  const int n = static_cast<int>(v.size()) - 1;
  for (int w = 0; w < n; ++w) {
    for (int a = v[w]; a < v[w + 1]; ++a) {
      const int x = e[a];
      if (x == w || c[x] < 0 || c[w] < 0 || c[x] == c[w]) return false;  // distance 1
      for (int b = a + 1; b < v[w + 1]; ++b) {
        const int y = e[b];
        if (y != x && c[x] == c[y]) return false;  // distance 2 through w
      }
    }
  }
  return true;
}

static double secs(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.mtx [ORDER ...] [--check] [--out PREFIX]\n", argv[0]);
    return 2;
  }
  std::string file = argv[1];
  std::vector<std::string> orders;
  bool check = false;
  std::string out;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--check") {
      check = true;
    } else if (a == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else {
      orders.push_back(a);
    }
  }
  if (orders.empty()) orders = {"NATURAL", "SMALLEST_LAST"};

  Driver g;
  auto r0 = std::chrono::steady_clock::now();
  g.ReadMatrixMarketAdjacencyGraph(file);
  auto r1 = std::chrono::steady_clock::now();
  const int n = static_cast<int>(g.vertices().size()) - 1;
  std::fprintf(stderr, "read %s: n=%d, edges=%zu (both directions), %.3f s\n", file.c_str(), n,
               g.edges().size(), secs(r0, r1));

  for (const std::string& o : orders) {
    clock_t c0 = std::clock();
    auto t0 = std::chrono::steady_clock::now();
    int ok_order = g.OrderVertices(o);
    auto t1 = std::chrono::steady_clock::now();
    clock_t c1 = std::clock();
    int ok_color = g.DistanceTwoColoring();
    auto t2 = std::chrono::steady_clock::now();
    clock_t c2 = std::clock();
    if (ok_order != _TRUE || ok_color != _TRUE) {
      std::fprintf(stderr, "ColPack failed on order %s\n", o.c_str());
      return 1;
    }
    const char* valid = "null";
    if (check) valid = check_d2(g) ? "true" : "false";
    if (!out.empty()) {
      std::string path = out + "." + o + ".txt";
      FILE* f = std::fopen(path.c_str(), "w");
      for (int c : g.colors()) std::fprintf(f, "%d\n", c);
      std::fclose(f);
    }
    std::printf(
        "{\"order\":\"%s\",\"n\":%d,\"colors\":%d,\"order_s\":%.6f,\"color_s\":%.6f,\"total_s\":%.6f,"
        "\"cp_order_s\":%.6f,\"cp_color_s\":%.6f,\"valid\":%s}\n",
        o.c_str(), n, g.GetVertexColorCount(), secs(t0, t1), secs(t1, t2), secs(t0, t2),
        double(c1 - c0) / CLOCKS_PER_SEC, double(c2 - c1) / CLOCKS_PER_SEC, valid);
    std::fflush(stdout);
  }
  return 0;
}

/// Load generator behind `dugnad bench` (issue 5: not written yet).
enum DugnadBench {}

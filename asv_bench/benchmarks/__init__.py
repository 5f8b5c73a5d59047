"""asv benchmarks of numlstm (run ``asv`` from ``asv_bench/``)."""

"""Where runs go besides this process: a Ray cluster. Beside the CLI and the job server; the engine never imports
this package (it finds the executors through the `kinograph.executors` entry-point group)."""

// src/dist: everything that crosses process boundaries.
//  - mpi_session.h  MPI bootstrap: init/finalize, world and node-local rank, works as a
//                   single process with no launcher.
// The Comm interface (MPI and NCCL backends) and the gradient reducer live here too.
#pragma once

#include "dist/mpi_session.h"

// src/dist: everything that crosses process boundaries.
//  - mpi_session.h   MPI bootstrap: init/finalize, world and node-local rank; a process
//                    started without mpirun/srun is a world of one;
//  - comm.h          the Comm interface (broadcast, mean all-reduce, max, barrier) with
//                    single-process, MPI (CPU) and NCCL (CUDA) backends, all with timeouts;
//                    make_group_comm forms a rank group and owns it; the weight-checksum
//                    agreement. No MPI type in it: only src/dist includes <mpi.h>
//                    (mpi_comm.h: the MPI_Comm-level factories, for src/dist and its tests);
//  - grad_reducer.h  bucketed gradient averaging that overlaps backward;
//  - device.h        rank -> device and intra-op threads per rank.
#pragma once

#include "dist/comm.h"
#include "dist/device.h"
#include "dist/grad_reducer.h"
#include "dist/mpi_session.h"

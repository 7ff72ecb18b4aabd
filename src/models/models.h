// src/models: the three networks and their weight files.
//  - transform_net.h  f_W (Johnson et al. 2016, pytorch/examples TransformerNet layout);
//                     RGB in [0, 1] in and out — the project's image convention;
//  - transform_inference.h  f_W's CPU inference path (dpst-stylize): the same function
//                     bit for bit, with padded buffers and fused norm passes;
//  - vgg16.h          VGG16 loss network, taps relu1_2..relu4_3, its own preprocessing;
//  - hourglass.h      Chen et al. 2016 hourglass depth network, taps stem, L1..L4, output,
//                     in its two published variants (hourglass3 .t7, MegaDepth);
//  - weights_io.h     HDF5 weight files by torchvision-style names, strict loading;
//  - loss_nets.h      loss networks from config (refusing random init unless allowed, and
//                     a depth file of another variant than loss_nets.depth_net),
//                     f_W export/import;
//  - det_init.h       deterministic weights shared with Python (random init, parity tests);
//  - macs.h           MAC counting of convolutions; taps.h: tap maps, freeze, counts;
//  - provenance_text.h the RANDOM INIT wording every result uses for random-init loss nets.
#pragma once

#include "models/det_init.h"
#include "models/hourglass.h"
#include "models/loss_nets.h"
#include "models/macs.h"
#include "models/provenance_text.h"
#include "models/taps.h"
#include "models/transform_inference.h"
#include "models/transform_net.h"
#include "models/vgg16.h"
#include "models/weights_io.h"

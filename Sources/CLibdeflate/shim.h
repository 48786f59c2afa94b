#ifndef TENSORTOOL_CLIBDEFLATE_SHIM_H
#define TENSORTOOL_CLIBDEFLATE_SHIM_H
#include <libdeflate.h>
#endif

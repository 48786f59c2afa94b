#ifndef TENSORTOOL_CZLIB_SHIM_H
#define TENSORTOOL_CZLIB_SHIM_H
#include <zlib.h>
#endif

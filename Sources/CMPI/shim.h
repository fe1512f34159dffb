// Open MPI's C API for Swift. Its handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are macros over addresses of
// globals, which Swift cannot import: these inline functions return them.
#include <mpi.h>

static inline MPI_Comm quill_mpi_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype quill_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype quill_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype quill_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype quill_mpi_int(void) { return MPI_INT; }
static inline MPI_Op quill_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op quill_mpi_max(void) { return MPI_MAX; }
static inline int quill_mpi_success(void) { return MPI_SUCCESS; }
static inline void *quill_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int quill_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int quill_mpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline int quill_mpi_status_source(const MPI_Status *status) { return status->MPI_SOURCE; }

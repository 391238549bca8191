/* A library that exists at link time but not where the dynamic linker looks at run time (it is
 * built into a directory no RPATH names): what libcudart is on a machine without CUDA. */
__attribute__((visibility("default"))) int melspec_test_absent_dependency(void);

int melspec_test_absent_dependency(void)
{
    return 0;
}

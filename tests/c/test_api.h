/* The parts of test_api in other files. */
#ifndef DFUFLASH_TEST_API_H
#define DFUFLASH_TEST_API_H

/* test_api_contract.c */
void test_codes_and_queries(void);
void test_header_contract(const char *dfu);

#endif

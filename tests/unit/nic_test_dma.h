/* SPDX-License-Identifier: MIT */
/* nic_dma_alloc for the host tests (aligned, zeroed, all freed at once). */
#ifndef SIDECORE_TESTS_NIC_TEST_DMA_H
#define SIDECORE_TESTS_NIC_TEST_DMA_H

void nic_test_dma_free_all(void);

#endif

/* The mock kernel image: the globals the locator looks up, and (through
 * -g) the DWARF of mock-kernel.h.  Linked at the kernel's address
 * (mock-vmlinux.ld); never run. */
#include "mock-kernel.h"

struct list_head dmar_drhd_units;
struct list_head pci_root_buses;
int intel_iommu_sm;
static int eim_mode;
unsigned long page_offset_base;
struct resource crashk_res;
struct resource crashk_low_res;
unsigned long max_pfn;
const char linux_banner[] = "Linux version 6.1.0-vtdmock (vtdscope@testdata) #1 SMP\n";
unsigned long init_top_pgt[512] __attribute__((aligned(4096)));
static struct printk_ringbuffer printk_rb_static;
struct irq_chip intel_ir_chip;
struct irq_chip pci_msi_chip;
static struct xarray irq_desc_tree;
struct xarray *mock_irq_desc_tree(void) { return &irq_desc_tree; }
struct printk_ringbuffer *prb = &printk_rb_static;

/* Referenced so that every type reaches the DWARF. */
struct dmar_drhd_unit *mock_t1;
struct intel_iommu *mock_t2;
struct q_inval *mock_t3;
struct ir_table *mock_t4;
struct dmar_domain *mock_t5;
struct iommu_domain_info *mock_t6;
struct xa_node *mock_t7;
struct device_domain_info *mock_t8;
struct dev_iommu *mock_t9;
struct device_driver *mock_t10;
struct pci_dev *mock_t11;
struct pci_bus *mock_t12;
struct pasid_table *mock_t13;
struct prb_desc *mock_t14;
struct printk_info *mock_t15;
struct prb_data_blk_lpos *mock_t16;
struct irq_desc *mock_t17;
struct intel_ir_data *mock_t18;

int *mock_eim_mode(void) { return &eim_mode; }

/* A mock of the kernel structures the locator reads, in Linux 6.1's member
 * order (drivers/iommu/intel/iommu.h, include/linux/{dmar,pci,device,
 * xarray,iommu,ioport}.h), reduced to what matters plus padding so offsets
 * are not trivially small.  The generator (compiled with this header) lays
 * objects out in a synthetic dump; the mock vmlinux (also compiled from this
 * header, with -g) tells the reader the layout through DWARF — the two
 * agree only through the compiler, as real dumps and their debuginfo do. */
#ifndef MOCK_KERNEL_H
#define MOCK_KERNEL_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

struct list_head { struct list_head *next, *prev; };

struct q_inval {
	u32 q_lock;
	void *desc;
	int *desc_status;
	int free_head, free_tail;
	int free_cnt;
};

struct irte;
struct ir_table {
	struct irte *base;
	unsigned long *bitmap;
};

struct root_entry;
struct intel_iommu {
	void *reg;
	u64 reg_phys;
	u64 reg_size;
	u64 cap;
	u64 ecap;
	u64 vccap;
	u32 gcmd;
	u32 register_lock;
	int seq_id;
	int agaw;
	int msagaw;
	unsigned int irq, pr_irq, perf_irq;
	u16 segment;
	unsigned char name[13];
	unsigned long *domain_ids;
	unsigned long *copied_tables;
	u32 lock;
	struct root_entry *root_entry;
	void *flush[2];
	struct q_inval *qi;
	u32 iommu_state[4];
	struct ir_table *ir_table;
	void *ir_domain;
	int node;
	u32 flags;
	void *drhd;
};

struct dmar_drhd_unit {
	struct list_head list;
	void *hdr;
	u64 reg_base_addr;
	void *devices;
	int devices_cnt;
	u16 segment;
	u8 ignored:1;
	u8 include_all:1;
	u8 gfx_dedicated:1;
	struct intel_iommu *iommu;
};

struct xarray {
	u32 xa_lock;
	u32 xa_flags;
	void *xa_head;
};

struct xa_node {
	unsigned char shift, offset, count, nr_values;
	struct xa_node *parent;
	struct xarray *array;
	struct list_head private_list;
	void *slots[64];
	unsigned long marks[3][1];
};

struct iommu_domain_info {
	struct intel_iommu *iommu;
	unsigned int refcnt;
	u16 did;
};

struct iommu_domain {
	unsigned type;
	const void *ops;
	unsigned long pgsize_bitmap;
	void *geometry[3];
	void *iova_cookie;
};

struct dmar_domain {
	int nid;
	struct xarray iommu_array;
	u8 has_iotlb_device:1;
	u8 iommu_coherency:1;
	u8 force_snooping:1;
	u8 set_pte_snp:1;
	u8 use_first_level:1;
	u32 lock;
	struct list_head devices;
	void *pgd;
	int gaw;
	int agaw;
	u64 max_addr;
	struct iommu_domain domain;
};

struct pasid_table {
	void *table;
	int order;
	u32 max_pasid;
};

struct device;
struct device_domain_info {
	struct list_head link;
	u32 segment;
	u8 bus;
	u8 devfn;
	u16 pfsid;
	u8 pasid_supported:3;
	u8 pasid_enabled:1;
	u8 pri_supported:1;
	u8 pri_enabled:1;
	u8 ats_supported:1;
	u8 ats_enabled:1;
	u8 ats_qdep;
	struct device *dev;
	struct intel_iommu *iommu;
	struct dmar_domain *domain;
	struct pasid_table *pasid_table;
};

struct dev_iommu {
	u32 lock;
	void *fault_param;
	void *iopf_param;
	void *fwspec;
	void *iommu_dev;
	void *priv;
	u32 max_pasids;
};

struct device_driver {
	const char *name;
	void *bus;
	void *owner;
};

struct device {
	void *kobj[8];
	struct device *parent;
	void *p;
	const char *init_name;
	const void *type;
	const void *bus;
	struct device_driver *driver;
	void *platform_data;
	void *driver_data;
	void *links[4];
	struct dev_iommu *iommu;
	void *pad[6];
};

struct pci_dev;
struct pci_bus {
	struct list_head node;
	struct pci_bus *parent;
	struct list_head children;
	struct list_head devices;
	struct pci_dev *self;
	void *resources[4];
	void *ops;
	void *sysdata;
	unsigned char number;
	unsigned char primary;
};

struct pci_driver;
struct pci_dev {
	struct list_head bus_list;
	struct pci_bus *bus;
	struct pci_bus *subordinate;
	void *sysdata;
	void *procent;
	void *slot;
	unsigned int devfn;
	unsigned short vendor;
	unsigned short device;
	unsigned short subsystem_vendor;
	unsigned short subsystem_device;
	unsigned int class;
	struct pci_driver *driver;
	u64 dma_mask;
	struct device dev;
	int cfg_size;
};

struct resource {
	u64 start;
	u64 end;
	const char *name;
	unsigned long flags;
	unsigned long desc;
	struct resource *parent, *sibling, *child;
};

/* IRQ descriptors and the interrupt-remapping shadows
 * (include/linux/irq.h, irqdesc.h; drivers/iommu/intel/irq_remapping.c) */
struct irq_chip { const char *name; void *ops[8]; };
struct irq_common_data { unsigned int state_use_accessors; void *handler_data; void *msi_desc; };
struct irq_data {
	u32 mask;
	unsigned int irq;
	unsigned long hwirq;
	struct irq_common_data *common;
	struct irq_chip *chip;
	void *domain;
	struct irq_data *parent_data;
	void *chip_data;
};
struct irq_desc {
	struct irq_common_data irq_common_data;
	struct irq_data irq_data;
	void *kstat_irqs;
	void *handle_irq;
	void *action;
};
struct irte { u64 low, high; };
enum irq_mode { IRQ_REMAPPING, IRQ_POSTING };
struct irq_2_iommu {
	struct intel_iommu *iommu;
	u16 irte_index;
	u16 sub_handle;
	u8 irte_mask;
	enum irq_mode mode;
};
struct intel_ir_data {
	struct irq_2_iommu irq_2_iommu;
	struct irte irte_entry;
	u64 msi_entry[2];
};

/* kernel/printk/printk_ringbuffer.h (5.10+) */
typedef struct { long counter; } atomic_long_t;
struct prb_data_blk_lpos { unsigned long begin, next; };
struct prb_desc { atomic_long_t state_var; struct prb_data_blk_lpos text_blk_lpos; };
struct dev_printk_info { char subsystem[16]; char device[48]; };
struct printk_info {
	u64 seq;
	u64 ts_nsec;
	u16 text_len;
	u8 facility;
	u8 flags:5;
	u8 level:3;
	u32 caller_id;
	struct dev_printk_info dev_info;
};
struct prb_desc_ring {
	unsigned int count_bits;
	struct prb_desc *descs;
	struct printk_info *infos;
	atomic_long_t head_id;
	atomic_long_t tail_id;
	atomic_long_t last_finalized_id;
};
struct prb_data_ring {
	unsigned int size_bits;
	char *data;
	atomic_long_t head_lpos;
	atomic_long_t tail_lpos;
};
struct printk_ringbuffer {
	struct prb_desc_ring desc_ring;
	struct prb_data_ring text_data_ring;
	atomic_long_t fail;
};

#endif

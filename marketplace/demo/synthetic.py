"""Deterministic synthetic patent portfolios, written in exactly the format the inventory importer reads.

`generate_inventory(n, seed=...)` returns a frame of text columns named like the importer's English headers
(see patents.inventory.importing.HEADER_ALIASES). Every row passes `validate(map_headers(frame), today=today)`. The same
arguments always give the same frame (numpy's PCG64 generator; `today` defaults to the current date, so pass it
when the result must be reproducible on another day).

Everything is vectorised: columns are drawn with numpy and texts composed with numpy's string ufuncs over
StringDType arrays, so a million rows take seconds, not minutes. Used by `manage.py seed_demo` (a few hundred
patents per demo holder, imported through the real import service) and by `bench/` (100k-1M rows).

What the data looks like:

* kinds about 60 % inventions, 35 % utility models, 5 % designs; filing dates 2004..today-30 days, more
  recent years more frequent (as Chinese filings grew);
* patent numbers: valid Chinese application numbers ``YYYYT`` + 7-digit serial + ``.`` + check character,
  serial = start_serial + row, so calls with disjoint [start_serial, start_serial + n) ranges never collide;
* ~30 technology domains covering most WIPO fields, each with weighted real IPC groups (main symbol first,
  ``;``-separated, canonical form) and Chinese/English phrase templates for titles and abstracts
  (``language_mix`` is the Chinese share). Designs carry no IPC (they are classified by Locarno);
* legal status follows the dates: pending applications are recent; inventions were granted 1-4 years after
  filing (5 % took 4-6 years), utility models 3-18 months and designs 3-12 months after; expired ones are
  past their statutory term (as patents.inventory.term computes it), lapsed ones stopped paying annual fees at some
  point (exponential hazard), a few were invalidated;
* forward citations are skewed (most 0-3, a few large), families mostly 1, evaluation reports only on some
  granted utility models and designs, a few pledged patents, a few inventions with a term extension.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from patents.inventory.fields import classify_ipc
from patents.inventory.ipc import normalize_ipc
from patents.inventory.term import DESIGN_15_YEAR_TERM_FROM, statutory_expiry_series

__all__ = [
    "CHINESE_HEADERS",
    "COLUMNS",
    "ENGLISH_TEXT_COLUMNS",
    "generate_inventory",
    "to_chinese_headers",
    "write_inventory_csv",
    "write_inventory_xlsx",
]

COLUMNS = [
    "patent_number", "title", "kind", "filing_date", "grant_date", "ipc", "abstract", "claims_count",
    "legal_status", "inventors", "co_owners", "family_size", "forward_citations", "evaluation_report",
    "pledged", "term_extension_days",
]

# The holder's English title and abstract of a Chinese patent (generate_inventory(english_text=True)).
ENGLISH_TEXT_COLUMNS = ["title_en", "abstract_en"]

# English column -> a Chinese header that patents.inventory.importing.HEADER_ALIASES accepts for the same column.
CHINESE_HEADERS: dict[str, str] = {
    "patent_number": "专利号",
    "title": "专利名称",
    "kind": "专利类型",
    "filing_date": "申请日",
    "grant_date": "授权公告日",
    "ipc": "IPC分类号",
    "abstract": "摘要",
    "claims_count": "权利要求项数",
    "legal_status": "法律状态",
    "inventors": "发明人",
    "co_owners": "共同专利权人",
    "family_size": "同族数量",
    "forward_citations": "被引次数",
    "evaluation_report": "专利权评价报告",
    "pledged": "是否质押",
    "term_extension_days": "专利权期限补偿天数",
    "title_en": "英文名称",
    "abstract_en": "英文摘要",
}

# English value -> Chinese value accepted by the importer, per column (to_chinese_headers).
CHINESE_VALUES: dict[str, dict[str, str]] = {
    "kind": {"invention": "发明", "utility_model": "实用新型", "design": "外观设计"},
    "legal_status": {"pending": "实质审查", "granted": "有效", "lapsed": "未缴年费专利权终止",
                     "expired": "期限届满", "invalidated": "全部无效"},
    "evaluation_report": {"positive": "全部符合", "partial": "部分符合", "negative": "不符合", "": ""},
    "pledged": {"yes": "是", "no": "否"},
}

MAX_SERIAL = 10_000_000  # the serial is 7 digits
EARLIEST_FILING = date(2004, 1, 1)
KINDS = np.array(["invention", "utility_model", "design"], dtype=object)
KIND_SHARES = (0.60, 0.35, 0.05)
DEFAULT_CO_OWNERS = (
    "江南理工大学", "北方先进制造研究院", "华南新材料科技有限公司", "西部智能装备股份有限公司",
    "中原生物医药研究所", "东海电子信息有限公司", "滨江能源技术有限公司", "岭南农业科学研究院",
)

_S = np.dtypes.StringDType()


# --------------------------------------------------------------------------- vocabulary

@dataclass(frozen=True)
class _Domain:
    """A technology domain: IPC groups and the phrases its titles and abstracts are made of.

    Text fields hold entries separated by ";", each entry "中文|English" (dsg: "中文|English|用途|use";
    dev: "中文|English|部件,...|part,..." naming the parts its structure is described with).
    style picks the invention title templates: "method" (algorithms, systems), "material" (compositions and
    their preparation; needs `use`) or "mech" (devices and methods). steps are listed in process order.
    """

    key: str
    weights: tuple[float, float, float]  # share among inventions, utility models, designs
    style: str
    ipc: str  # "CODE:weight; ..." in canonical form
    topic: str
    tech: str
    step: str
    effect: str
    dev: str  # "设备|device|部件,部件,...|part,part,..."
    use: str = ""
    dsg: str = ""


_DOMAINS: tuple[_Domain, ...] = (
    _Domain(
        "battery", (7, 4, 1), "method",
        "H01M 10/0525:4; H01M 10/42:2; H01M 10/44:2; G01R 31/367:3; G01R 31/392:2; H01M 10/613:2; H01M 50/20:1;"
        " H01M 10/48:1",
        "锂离子电池健康状态估计|lithium-ion battery state-of-health estimation; 动力电池荷电状态估计|power battery"
        " state-of-charge estimation; 储能电池热失控预警|thermal runaway early warning for energy storage batteries;"
        " 电池组主动均衡控制|active balancing control of battery packs; 电池剩余使用寿命预测|battery remaining useful life"
        " prediction; 动力电池故障诊断|power battery fault diagnosis; 电池快速充电|fast battery charging",
        "深度学习|deep learning; 长短期记忆网络|a long short-term memory network; 扩展卡尔曼滤波|extended Kalman"
        " filtering; 电化学阻抗谱|electrochemical impedance spectroscopy; 迁移学习|transfer learning",
        "采集电池的电压、电流和温度数据|collecting voltage, current and temperature data of the battery;"
        " 对采集的数据进行滤波和归一化处理|filtering and normalising the collected data;"
        " 提取表征电池老化的健康特征|extracting health features that characterise battery ageing;"
        " 将健康特征输入训练好的预测模型|feeding the health features into a trained prediction model;"
        " 根据模型输出确定电池的状态|determining the state of the battery from the model output;"
        " 根据估计结果调整充放电策略|adjusting the charging and discharging strategy according to the estimate",
        "提高了电池状态估计的精度和鲁棒性|improves the accuracy and robustness of battery state estimation;"
        " 能够及时发现电池的安全隐患|detects safety hazards of the battery in time;"
        " 延长了电池的使用寿命|extends the service life of the battery;"
        " 计算量小，便于在电池管理系统中部署|has a low computational load and is easy to deploy in a battery management"
        " system",
        "电池包散热结构|heat dissipation structure for a battery pack|箱体,液冷板,导热垫,电芯模组,风道|case,liquid cooling plate,"
        "thermal pad,cell module,air duct;"
        " 电池模组固定支架|fixing bracket for battery modules|底板,侧板,端板,紧固螺栓,绝缘垫片|base plate,side plate,end plate,"
        "fastening bolt,insulating gasket;"
        " 电池管理系统采样电路|sampling circuit of a battery management system|采样芯片,分压电阻,滤波电容,隔离模块,主控单元|"
        "sampling chip,"
        "voltage-dividing resistor,filter capacitor,isolation module,main control unit;"
        " 防爆电池盖板|explosion-proof battery cover plate|盖板本体,防爆阀,极柱,密封圈,注液孔塞|cover plate body,"
        "explosion-proof valve,terminal post,sealing ring,filling hole plug",
        dsg="储能电源|portable power station|用于户外及应急供电|for outdoor and emergency power supply;"
            " 电池包|battery pack|用于为电动车辆提供电能|for supplying electric energy to electric vehicles",
    ),
    _Domain(
        "battery_materials", (3, 1, 0), "material",
        "H01M 4/36:3; H01M 4/505:2; H01M 4/525:3; H01M 4/583:2; H01M 10/0562:2; C01G 53/00:2; C01B 32/05:1",
        "高镍三元正极材料|nickel-rich ternary cathode material; 硅碳负极材料|silicon-carbon anode material;"
        " 磷酸铁锂正极材料|lithium iron phosphate cathode material; 硫化物固态电解质|sulphide solid electrolyte;"
        " 钠离子电池层状氧化物正极材料|layered oxide cathode material for sodium-ion batteries; 硬碳负极材料|hard carbon"
        " anode material",
        "共沉淀法|co-precipitation; 溶胶-凝胶法|a sol-gel method; 高温固相法|high-temperature solid-state reaction;"
        " 喷雾干燥法|spray drying",
        "按化学计量比称取原料并混合均匀|weighing the raw materials in stoichiometric ratio and mixing them uniformly;"
        " 在惰性气氛下进行球磨|ball milling under an inert atmosphere; 将前驱体在高温下煅烧|calcining the precursor at"
        " high temperature; 对煅烧产物进行包覆改性|coating and modifying the calcined product;"
        " 经破碎、筛分得到成品|crushing and sieving to obtain the finished product",
        "制得的材料比容量高、循环稳定性优异|provides a material with high specific capacity and excellent cycling"
        " stability; 工艺简单，易于规模化生产|has a simple process suitable for large-scale production;"
        " 显著提升了电池的倍率性能|markedly improves the rate capability of the battery",
        "正极材料烧结匣钵|sintering sagger for cathode materials|钵体,盖板,加强筋,透气孔|sagger body,cover plate,"
        "reinforcing rib,vent hole;"
        " 粉体包覆反应釜|powder coating reactor|釜体,搅拌轴,加热套,进料口,出料阀|vessel body,stirring shaft,heating jacket,"
        "feed inlet,discharge valve;"
        " 电池浆料真空搅拌装置|vacuum mixing device for battery slurry|搅拌罐,行星搅拌桨,真空泵,冷却夹套,升降机构|mixing tank,"
        "planetary stirring paddle,vacuum pump,cooling jacket,lifting mechanism",
        use="锂离子电池|lithium-ion batteries; 固态电池|solid-state batteries; 储能器件|energy storage devices",
    ),
    _Domain(
        "power", (5, 5, 1), "method",
        "H02J 3/38:4; H02J 7/00:3; H02M 7/5387:2; H02J 3/32:2; H02J 13/00:2; H02M 3/335:2; B60L 53/30:1",
        "光伏逆变器功率控制|photovoltaic inverter power control; 微电网优化调度|microgrid optimal dispatch;"
        " 储能变流器故障穿越控制|fault ride-through control of energy storage converters; 电动汽车有序充电|coordinated"
        " charging of electric vehicles; 配电网谐波抑制|harmonic suppression in distribution networks;"
        " 风电场无功补偿|reactive power compensation for wind farms; 光伏最大功率点跟踪|photovoltaic maximum power"
        " point tracking",
        "模型预测控制|model predictive control; 改进粒子群算法|an improved particle swarm algorithm;"
        " 虚拟同步机技术|virtual synchronous machine technology; 强化学习|reinforcement learning; 滑模控制|sliding mode"
        " control",
        "获取电力系统的实时运行数据|acquiring real-time operating data of the power system;"
        " 建立系统各单元的数学模型|establishing a mathematical model of each unit of the system;"
        " 以运行成本最小为目标构建优化函数|constructing an objective function that minimises operating cost;"
        " 求解得到最优控制指令|solving for the optimal control command;"
        " 将控制指令下发至各执行单元|sending the control command to each execution unit",
        "提高了电能质量和系统稳定性|improves power quality and system stability; 降低了系统运行成本|reduces the"
        " operating cost of the system; 提升了新能源的消纳能力|increases the capacity to absorb renewable energy",
        "充电桩散热装置|heat dissipation device for a charging pile|桩体,散热风扇,散热片,防尘网,温度传感器|pile body,cooling fan,"
        "heat sink,dust screen,temperature sensor;"
        " 光伏组件安装支架|mounting bracket for photovoltaic modules|立柱,斜梁,檩条,压块,地锚|column,inclined beam,purlin,"
        "pressing block,ground anchor;"
        " 智能配电柜|intelligent power distribution cabinet|柜体,断路器,智能电表,散热风扇,控制器|cabinet body,circuit breaker,"
        "smart meter,cooling fan,controller;"
        " 逆变器外壳|inverter enclosure|壳体,散热鳍片,接线盒,防水透气阀,安装挂板|housing,cooling fin,junction box,"
        "waterproof breather valve,mounting plate",
        dsg="充电桩|charging pile|用于为电动汽车充电|for charging electric vehicles;"
            " 逆变器|inverter|用于光伏发电系统|for photovoltaic power generation systems",
    ),
    _Domain(
        "comms", (7, 1, 1), "method",
        "H04L 9/40:2; H04L 67/10:3; H04W 72/04:3; H04W 24/02:2; H04L 5/00:2; H04L 1/00:1; H04W 4/40:2; H04L 9/32:2;"
        " H04B 7/06:1",
        "无线资源分配|wireless resource allocation; 大规模天线信道估计|massive MIMO channel estimation;"
        " 物联网终端身份认证|identity authentication of IoT terminals; 车联网数据传输|vehicle-to-everything data"
        " transmission; 毫米波波束管理|millimetre-wave beam management; 网络切片编排|network slice orchestration;"
        " 低轨卫星网络路由|routing in low-earth-orbit satellite networks; 区块链数据共享|blockchain-based data sharing",
        "深度强化学习|deep reinforcement learning; 非正交多址接入|non-orthogonal multiple access; 联邦学习|federated"
        " learning; 智能合约|smart contracts; 正交频分复用|orthogonal frequency division multiplexing",
        "终端设备向基站发送接入请求|sending an access request from a terminal device to a base station;"
        " 基站根据信道状态信息确定调度参数|determining scheduling parameters at the base station from channel state"
        " information; 对待传输数据进行加密和编码|encrypting and encoding the data to be transmitted;"
        " 根据分配的时频资源发送数据|transmitting the data on the allocated time-frequency resources;"
        " 接收端对数据进行解码和校验|decoding and verifying the data at the receiving end",
        "提高了频谱利用率并降低了传输时延|improves spectral efficiency and reduces transmission latency;"
        " 增强了通信过程的安全性|enhances the security of communication; 降低了终端的功耗|reduces the power consumption"
        " of terminals",
        "通信基站天线罩|radome for a communication base station|罩体,端盖,安装抱箍,排水孔|radome body,end cap,mounting hoop,"
        "drain hole;"
        " 物联网网关|Internet of Things gateway|外壳,主控芯片,无线通信模块,天线,电源模块|housing,main control chip,"
        "wireless communication module,antenna,power module;"
        " 光纤配线箱|optical fibre distribution box|箱体,熔纤盘,适配器面板,理线架,箱门|box body,splice tray,adapter panel,"
        "cable management rack,box door",
        dsg="路由器|router|用于无线网络接入|for wireless network access; 通信基站|base station|用于移动通信|for mobile"
            " communication",
    ),
    _Domain(
        "ai", (10, 0.3, 0), "method",
        "G06N 3/08:5; G06N 3/045:3; G06F 16/35:2; G06F 18/214:2; G06V 10/82:3; G06F 9/50:2; G06N 20/00:1;"
        " G06F 40/30:2; G06F 21/62:1",
        "文本情感分类|text sentiment classification; 遥感图像目标检测|object detection in remote sensing images;"
        " 知识图谱补全|knowledge graph completion; 工业缺陷图像识别|industrial defect image recognition;"
        " 实体关系抽取|entity relation extraction; 智能问答|intelligent question answering;"
        " 大语言模型推理加速|large language model inference acceleration; 分布式任务调度|distributed task scheduling;"
        " 隐私保护数据查询|privacy-preserving data query",
        "深度学习|deep learning; 注意力机制|an attention mechanism; 图神经网络|a graph neural network;"
        " 对比学习|contrastive learning; 知识蒸馏|knowledge distillation; Transformer模型|a Transformer model",
        "获取待处理的原始数据|obtaining raw data to be processed; 对原始数据进行预处理和特征编码|preprocessing the raw"
        " data and encoding features; 构建并训练神经网络模型|constructing and training a neural network model;"
        " 将特征输入训练好的模型得到预测结果|feeding the features into the trained model to obtain a prediction;"
        " 根据预测结果输出处理结果|outputting a processing result according to the prediction",
        "提高了识别准确率|improves recognition accuracy; 降低了计算资源消耗|reduces the consumption of computing resources;"
        " 提升了模型的泛化能力|improves the generalisation ability of the model",
        "服务器散热机箱|heat-dissipating server chassis|机箱,主板,风扇组件,导风罩,硬盘托架|chassis,mainboard,fan assembly,"
        "air duct cover,hard disk bracket;"
        " 人工智能边缘计算盒|edge AI computing box|壳体,计算模组,散热片,接口板,电源适配器|housing,computing module,heat sink,"
        "interface board,power adapter",
    ),
    _Domain(
        "imaging", (4, 1, 1), "method",
        "H04N 19/176:2; H04N 23/80:2; G06T 7/00:3; G06T 5/00:2; H04N 21/234:1; G06T 17/00:1",
        "视频编码|video coding; 低照度图像增强|low-light image enhancement; 多目标跟踪|multi-object tracking;"
        " 三维重建|three-dimensional reconstruction; 图像超分辨率重建|image super-resolution reconstruction;"
        " 视频插帧|video frame interpolation",
        "卷积神经网络|a convolutional neural network; 生成对抗网络|a generative adversarial network;"
        " 神经辐射场|neural radiance fields; 光流估计|optical flow estimation",
        "获取待处理的图像或视频帧|acquiring the images or video frames to be processed; 提取图像的多尺度特征|extracting"
        " multi-scale features of the images; 对多帧或多视角的特征进行对齐和融合|aligning and fusing features across"
        " frames or views; 根据融合特征计算处理结果|computing the processing result from the fused features;"
        " 对结果进行后处理并输出|post-processing and outputting the result",
        "提高了处理精度|improves processing accuracy; 降低了计算复杂度|reduces computational complexity;"
        " 满足实时处理的要求|meets real-time processing requirements",
        "摄像机云台|pan-tilt head for a camera|底座,水平转动轴,俯仰电机,摄像头,控制板|base,horizontal rotating shaft,tilt motor,"
        "camera module,control board;"
        " 镜头防护罩|lens protective cover|罩体,透光窗,雨刷,加热膜|cover body,transparent window,wiper,heating film;"
        " 双目相机标定板|calibration board for a binocular camera|基板,标定图案层,支撑架,调节旋钮|base board,"
        "calibration pattern layer,support frame,adjusting knob",
        dsg="监控摄像机|surveillance camera|用于视频监控|for video surveillance; 投影仪|projector|用于图像投影显示|for"
            " projecting images",
    ),
    _Domain(
        "it_management", (3, 0, 0), "method",
        "G06Q 10/06:3; G06Q 50/06:2; G06Q 40/03:1; G06Q 10/08:2; G06Q 30/02:1; G06Q 50/26:1; G06Q 10/04:2",
        "物流路径规划|logistics route planning; 供应链风险评估|supply chain risk assessment; 电力负荷预测|power load"
        " forecasting; 企业信用评估|enterprise credit evaluation; 仓储库存优化|warehouse inventory optimisation;"
        " 工程项目进度管理|construction project schedule management",
        "图神经网络|a graph neural network; 遗传算法|a genetic algorithm; 梯度提升决策树|gradient boosting decision trees;"
        " 数字孪生|digital twins",
        "采集业务系统中的历史数据|collecting historical data from business systems; 对数据进行清洗并构建指标体系|cleaning"
        " the data and building an indicator system; 训练评估或预测模型|training an evaluation or prediction model;"
        " 根据模型输出生成决策方案|generating a decision plan from the model output; 将决策方案推送至管理终端|pushing the"
        " decision plan to a management terminal",
        "提高了管理决策的科学性|makes management decisions better founded; 降低了运营成本|reduces operating costs;"
        " 提升了预测精度|improves forecasting accuracy",
        "智能快递柜|intelligent parcel locker|柜体,储物格口,电子锁,显示屏,扫码器|cabinet body,storage compartment,"
        "electronic lock,display screen,code scanner",
    ),
    _Domain(
        "semiconductor", (5, 2, 0), "material",
        "H01L 21/67:2; H01L 29/78:2; H01L 23/367:2; H01L 33/32:2; H10K 50/11:1; H10B 12/00:1; H01L 31/18:2;"
        " H01L 21/02:2",
        "氮化镓高电子迁移率晶体管|gallium nitride high-electron-mobility transistor; 碳化硅MOSFET器件|silicon carbide"
        " MOSFET device; 钙钛矿太阳能电池|perovskite solar cell; Micro LED芯片|Micro LED chip;"
        " 三维NAND存储器|three-dimensional NAND memory; 功率模块封装结构|power module package structure",
        "原子层沉积|atomic layer deposition; 金属有机化学气相沉积|metal-organic chemical vapour deposition;"
        " 离子注入|ion implantation; 电子束光刻|electron-beam lithography",
        "清洗衬底并进行表面处理|cleaning and surface-treating the substrate; 在衬底上沉积功能薄膜层|depositing functional"
        " thin-film layers on the substrate; 通过光刻和刻蚀形成图形化结构|forming patterned structures by photolithography"
        " and etching; 进行退火处理|annealing; 制备电极并完成封装|forming the electrodes and packaging",
        "提高了器件性能的一致性|makes device performance more uniform; 提高了器件的可靠性|improves device reliability;"
        " 降低了制造成本|lowers manufacturing cost",
        "晶圆承载盘|wafer carrier|盘体,定位槽,支撑柱,吸附孔|carrier body,positioning groove,support pillar,suction hole;"
        " 芯片封装散热基板|heat-dissipating substrate for chip packaging|陶瓷基板,铜层,导热通孔,焊盘|ceramic substrate,"
        "copper layer,thermal via,bonding pad;"
        " 晶圆清洗装置|wafer cleaning device|清洗腔,旋转卡盘,喷嘴,废液回收槽,驱动电机|cleaning chamber,rotating chuck,nozzle,"
        "waste liquid tank,drive motor",
        use="新能源汽车电驱系统|electric drive systems of new energy vehicles; 5G射频前端|5G radio-frequency front ends;"
            " 柔性显示|flexible displays",
    ),
    _Domain(
        "optics", (2, 2, 1), "mech",
        "G02B 6/12:2; G02B 27/01:3; G02B 13/00:2; H01S 5/183:1; G02F 1/1333:2; G02B 7/02:1",
        "光纤传感|optical fibre sensing; 激光雷达光束扫描|lidar beam scanning; 增强现实显示|augmented reality display;"
        " 镜头像差校正|lens aberration correction",
        "机器视觉|machine vision; 衍射光波导|diffractive waveguides; 光纤光栅|fibre Bragg gratings",
        "发射激光并调制光束|emitting laser light and modulating the beam; 通过光学组件对光束进行整形|shaping the beam with"
        " optical components; 接收反射回的光信号|receiving the reflected optical signal; 对光信号进行解调和处理|demodulating"
        " and processing the optical signal; 输出测量或显示结果|outputting the measurement or display result",
        "提高了成像质量|improves imaging quality; 减小了光学系统的体积|reduces the size of the optical system;"
        " 扩大了视场角|widens the field of view",
        "光学镜头|optical lens|镜筒,透镜组,隔圈,压圈,调焦环|lens barrel,lens group,spacer ring,retaining ring,focusing ring;"
        " 近眼显示模组|near-eye display module|微显示屏,光波导片,耦入光栅,镜框|microdisplay,waveguide plate,in-coupling grating,"
        "frame;"
        " 光纤连接器|optical fibre connector|插芯,套管,弹簧,外壳,防尘帽|ferrule,sleeve,spring,housing,dust cap;"
        " 激光器散热结构|heat dissipation structure for a laser|热沉,半导体制冷片,散热鳍片,风扇|heat sink,thermoelectric cooler,"
        "cooling fin,fan",
        dsg="智能眼镜|smart glasses|用于增强现实显示|for augmented reality display; 显微镜|microscope|用于样品观察|for"
            " observing samples",
    ),
    _Domain(
        "measurement", (5, 5, 0.5), "method",
        "G01N 21/88:3; G01R 31/08:2; G01S 17/89:2; G01M 13/045:2; G01B 11/24:2; G01D 5/353:1; G01N 27/12:1",
        "输电线路故障定位|transmission line fault location; 滚动轴承故障诊断|rolling bearing fault diagnosis;"
        " 表面缺陷视觉检测|visual inspection of surface defects; 激光雷达点云配准|lidar point cloud registration;"
        " 结构健康监测|structural health monitoring; 气体浓度检测|gas concentration detection",
        "机器视觉|machine vision; 小波包分解|wavelet packet decomposition; 卷积神经网络|a convolutional neural network;"
        " 可调谐激光吸收光谱|tunable diode laser absorption spectroscopy",
        "利用传感器采集被测对象的信号|acquiring signals of the measured object with sensors; 对信号进行降噪处理|denoising"
        " the signals; 提取信号的时域和频域特征|extracting time-domain and frequency-domain features of the signals;"
        " 将特征与基准数据进行比对|comparing the features with reference data; 输出检测结果并报警|outputting the detection"
        " result and raising an alarm",
        "提高了检测精度和效率|improves detection accuracy and efficiency; 实现了在线实时监测|enables online real-time"
        " monitoring; 降低了误报率|reduces the false alarm rate",
        "便携式气体检测仪|portable gas detector|壳体,气体传感器,采样泵,显示屏,电池仓|"
        "housing,gas sensor,sampling pump,display screen,"
        "battery compartment;"
        " 激光测距装置|laser ranging device|激光发射器,接收透镜,光电探测器,处理电路|laser emitter,receiving lens,photodetector,"
        "processing circuit;"
        " 振动传感器安装座|mount for a vibration sensor|底座,磁吸块,螺纹杆,锁紧螺母|base,magnetic block,threaded rod,lock nut;"
        " 水质在线监测装置|online water quality monitoring device|采样管,流通池,检测探头,清洗喷头,数据采集器|"
        "sampling pipe,flow cell,"
        "detection probe,cleaning nozzle,data logger",
        dsg="测距仪|rangefinder|用于距离测量|for measuring distances",
    ),
    _Domain(
        "bioanalysis", (2, 1, 0), "method",
        "G01N 33/53:2; G01N 33/68:1; G01N 33/574:2; C12Q 1/6883:2; G01N 33/569:1",
        "肿瘤标志物检测|tumour marker detection; 病毒核酸检测|viral nucleic acid detection; 循环肿瘤细胞捕获|capture of"
        " circulating tumour cells; 食品中农药残留快速检测|rapid detection of pesticide residues in food;"
        " 蛋白质组学质谱分析|proteomic mass spectrometry analysis",
        "微流控芯片|microfluidic chips; 表面增强拉曼光谱|surface-enhanced Raman spectroscopy; 荧光免疫层析|fluorescence"
        " immunochromatography; CRISPR-Cas12a|CRISPR-Cas12a",
        "采集待测样本并进行前处理|collecting the sample and pretreating it; 将样本与特异性探针混合反应|mixing the sample"
        " with a specific probe for reaction; 对反应产物进行扩增|amplifying the reaction product; 检测荧光或光谱信号|detecting"
        " the fluorescence or spectral signal; 根据信号强度计算目标物含量|calculating the content of the target from the"
        " signal intensity",
        "提高了检测灵敏度和特异性|improves detection sensitivity and specificity; 缩短了检测时间|shortens detection time;"
        " 适合基层现场快速检测|is suited to rapid on-site testing at primary care level",
        "核酸检测试剂盒|nucleic acid test kit|盒体,裂解液管,扩增反应管,检测卡|kit box,lysis buffer tube,amplification tube,"
        "detection card;"
        " 微流控检测芯片|microfluidic detection chip|基片,进样口,微通道,反应腔,废液池|substrate,sample inlet,microchannel,"
        "reaction chamber,waste reservoir",
    ),
    _Domain(
        "control", (4, 1, 0), "method",
        "G05B 13/04:2; G05B 19/418:3; G05D 1/02:2; G08G 1/01:2; G05B 23/02:2; G08G 1/08:1",
        "工业过程故障预警|fault early warning for industrial processes; 移动机器人路径规划|mobile robot path planning;"
        " 无人机编队控制|UAV formation control; 交通信号配时优化|traffic signal timing optimisation;"
        " 智能工厂生产排程|production scheduling in smart factories",
        "模型预测控制|model predictive control; 深度强化学习|deep reinforcement learning; 自适应模糊PID|adaptive fuzzy PID"
        " control; 改进A*算法|an improved A* algorithm",
        "获取被控对象的状态信息|acquiring state information of the controlled object; 建立被控对象的动态模型|establishing"
        " a dynamic model of the controlled object; 计算最优控制量|calculating the optimal control quantity;"
        " 将控制量输出至执行机构|outputting the control quantity to the actuator; 根据反馈信号在线修正参数|correcting the"
        " parameters online according to feedback signals",
        "提高了控制精度和响应速度|improves control accuracy and response speed; 增强了系统的抗干扰能力|strengthens the"
        " system against disturbances; 提高了生产效率|raises production efficiency",
        "可编程控制柜|programmable control cabinet|柜体,可编程控制器,继电器,触摸屏,接线排|cabinet body,programmable controller,"
        "relay,touch screen,terminal block;"
        " 交通信号灯控制箱|traffic signal control box|箱体,信号机主板,电源模块,检测器接口,散热风扇|"
        "box body,signal controller board,"
        "power module,detector interface,cooling fan",
    ),
    _Domain(
        "medical", (5, 6, 2), "mech",
        "A61B 5/00:3; A61B 17/34:2; A61M 25/00:2; A61F 2/82:2; A61B 34/30:2; A61B 6/03:1; G16H 50/20:2; A61M 5/14:1",
        "心电信号分析|electrocardiogram signal analysis; 手术机器人运动控制|surgical robot motion control;"
        " 医学图像分割|medical image segmentation; 睡眠呼吸暂停监测|sleep apnoea monitoring; 跌倒检测|fall detection",
        "深度学习|deep learning; 光电容积脉搏波|photoplethysmography; 力反馈|force feedback",
        "采集患者的生理信号或影像|acquiring physiological signals or images of the patient; 对数据进行去噪和分割|denoising"
        " and segmenting the data; 提取病灶或异常特征|extracting lesion or anomaly features; 由分类模型给出辅助诊断结果|giving"
        " an auxiliary diagnosis with a classification model; 将结果推送至医生工作站|pushing the result to the physician"
        " workstation",
        "提高了诊断的准确率|improves diagnostic accuracy; 减轻了医生的工作负担|reduces the workload of physicians;"
        " 降低了手术风险|lowers surgical risk",
        "一次性腹腔镜穿刺器|disposable laparoscopic trocar|穿刺针,套管,密封阀,手柄,锁紧机构|"
        "puncture needle,cannula,sealing valve,"
        "handle,locking mechanism;"
        " 可降解血管支架|biodegradable vascular stent|支撑环,连接筋,显影标记,药物涂层|support ring,connecting strut,"
        "radiopaque marker,drug coating;"
        " 医用导管|medical catheter|管体,导管座,球囊,显影环|catheter tube,catheter hub,balloon,radiopaque ring;"
        " 康复训练装置|rehabilitation training device|底座,支撑臂,绑带,阻尼器,驱动电机|base,support arm,strap,damper,drive motor;"
        " 输液加温器|infusion warmer|加热板,温度传感器,管路卡槽,控制面板|"
        "heating plate,temperature sensor,tube slot,control panel",
        dsg="监护仪|patient monitor|用于监测患者生命体征|for monitoring the vital signs of patients;"
            " 电动轮椅|electric wheelchair|用于行动不便者代步|as a mobility aid for people with reduced mobility;"
            " 雾化器|nebuliser|用于雾化给药|for nebulised drug delivery",
    ),
    _Domain(
        "pharma", (5, 0.3, 0), "material",
        "A61K 36/258:2; A61K 31/4439:2; A61K 9/20:2; A61P 35/00:3; A61K 31/7048:1; A61P 1/16:1; A61K 36/8969:1;"
        " A61K 9/127:1",
        "治疗慢性胃炎的中药组合物|traditional Chinese medicine composition for treating chronic gastritis;"
        " 抗肿瘤化合物|antitumour compound; 缓释片剂|sustained-release tablet; 纳米脂质体制剂|nanoliposome formulation;"
        " 黄芪多糖提取物|astragalus polysaccharide extract; 降血糖中药颗粒|hypoglycaemic Chinese medicine granules",
        "超临界二氧化碳萃取|supercritical carbon dioxide extraction; 微波辅助提取|microwave-assisted extraction;"
        " 冷冻干燥|freeze drying; 高压均质|high-pressure homogenisation",
        "将药材粉碎后加水煎煮|crushing the medicinal materials and decocting them in water; 过滤并浓缩提取液|filtering and"
        " concentrating the extract; 经醇沉去除杂质|removing impurities by alcohol precipitation; 加入辅料混合制粒|adding"
        " excipients, mixing and granulating; 干燥后压片或装胶囊|drying and then tabletting or encapsulating",
        "疗效确切且毒副作用小|is clinically effective with few side effects; 提高了药物的生物利用度|increases the"
        " bioavailability of the drug; 质量稳定可控|has stable and controllable quality",
        "中药煎煮装置|decoction device for Chinese medicine|锅体,搅拌桨,过滤网,加热管,出药口|pot body,stirring paddle,"
        "filter screen,heating tube,medicine outlet;"
        " 药片包衣机|tablet coating machine|包衣锅,喷枪,热风系统,排风管|coating pan,spray gun,hot air system,exhaust duct",
        use="制备抗肿瘤药物|preparing antitumour drugs; 治疗糖尿病|treating diabetes; 保护肝脏|protecting the liver",
    ),
    _Domain(
        "organic_chemistry", (3, 0.5, 0), "material",
        "C07D 401/04:2; C07D 487/04:2; C07D 213/61:1; C07C 51/43:1; C07F 9/38:1; C07D 471/04:1",
        "吡啶类化合物|pyridine compound; 手性胺中间体|chiral amine intermediate; 含氟液晶单体|fluorinated liquid crystal"
        " monomer; 有机电致发光材料|organic electroluminescent material; 喹啉衍生物|quinoline derivative",
        "连续流合成|continuous flow synthesis; 不对称催化氢化|asymmetric catalytic hydrogenation; 微通道反应器|a"
        " microchannel reactor",
        "将起始原料溶于有机溶剂中|dissolving the starting materials in an organic solvent; 在催化剂作用下进行偶联反应|carrying"
        " out a coupling reaction in the presence of a catalyst; 反应结束后萃取分液|extracting and separating after the"
        " reaction; 经柱层析纯化|purifying by column chromatography; 重结晶得到目标产物|recrystallising to obtain the"
        " target product",
        "收率高、纯度高|gives a high yield and high purity; 反应条件温和|uses mild reaction conditions; 减少了三废排放|reduces"
        " waste emissions",
        "微通道反应器|microchannel reactor|反应板,换热层,计量泵,背压阀,收集罐|reaction plate,heat exchange layer,metering pump,"
        "back-pressure valve,collection tank;"
        " 溶剂回收装置|solvent recovery device|蒸馏釜,冷凝器,接收罐,真空泵|still,condenser,receiving tank,vacuum pump",
        use="医药中间体|pharmaceutical intermediates; 有机发光二极管|organic light-emitting diodes; 液晶显示|liquid crystal"
            " displays",
    ),
    _Domain(
        "biotech", (3, 0.3, 0), "material",
        "C12N 15/113:2; C12N 5/0775:2; C12N 1/20:2; C12N 9/16:1; C12P 7/62:1; C12N 15/86:2",
        "重组腺相关病毒载体|recombinant adeno-associated virus vector; 嗜酸乳杆菌菌株|Lactobacillus acidophilus strain;"
        " 间充质干细胞外泌体|mesenchymal stem cell exosomes; 耐高温植酸酶突变体|thermostable phytase mutant;"
        " CAR-T细胞|CAR-T cells; 小干扰RNA|small interfering RNA",
        "基因编辑|gene editing; 定向进化|directed evolution; 高密度发酵|high-density fermentation",
        "构建重组表达质粒|constructing a recombinant expression plasmid; 转化宿主细胞并筛选阳性克隆|transforming host cells"
        " and screening positive clones; 扩大培养或发酵|scaling up the culture or fermentation; 分离纯化目标产物|isolating"
        " and purifying the target product; 检测产物活性|assaying the activity of the product",
        "表达量高且活性稳定|gives high expression and stable activity; 安全性好|has good safety; 降低了生产成本|reduces"
        " production cost",
        "细胞培养瓶|cell culture flask|瓶体,瓶盖,透气膜,培养面|flask body,cap,breathable membrane,culture surface;"
        " 发酵罐取样装置|sampling device for a fermenter|取样管,无菌阀,蒸汽灭菌接口,取样瓶|sampling tube,aseptic valve,"
        "steam sterilisation port,sampling bottle",
        use="制备益生菌制剂|preparing probiotic preparations; 基因治疗|gene therapy; 饲料添加剂|feed additives",
    ),
    _Domain(
        "polymers", (3, 1, 0), "material",
        "C08L 23/12:2; C08K 3/04:2; C08G 18/48:2; C08L 67/04:2; C08J 5/18:1; C08L 63/00:1",
        "聚乳酸复合材料|polylactic acid composite; 阻燃聚丙烯|flame-retardant polypropylene; 水性聚氨酯|waterborne"
        " polyurethane; 可降解地膜|biodegradable mulch film; 高导热环氧树脂|high thermal conductivity epoxy resin",
        "熔融共混|melt blending; 原位聚合|in-situ polymerisation; 反应挤出|reactive extrusion",
        "将树脂基体与助剂按比例混合|mixing the resin matrix with additives in proportion; 加入改性填料并分散均匀|adding the"
        " modified filler and dispersing it uniformly; 经双螺杆挤出机熔融挤出|melt extruding in a twin-screw extruder;"
        " 冷却、切粒|cooling and pelletising; 注塑或吹膜成型|injection moulding or film blowing",
        "力学性能优异|has excellent mechanical properties; 阻燃等级高|achieves a high flame-retardant rating; 可完全生物降解|is"
        " fully biodegradable",
        "塑料造粒机|plastic pelletiser|机架,螺杆,料斗,切刀,冷却水槽|frame,screw,hopper,cutter,cooling water tank;"
        " 薄膜收卷装置|film winding device|机架,收卷辊,张紧辊,纠偏器,驱动电机|frame,winding roller,tension roller,web guide,"
        "drive motor",
        use="汽车内饰|automotive interiors; 电子封装|electronic packaging; 食品包装|food packaging",
    ),
    _Domain(
        "food", (3, 1, 1), "material",
        "A23L 33/105:2; A23L 2/38:2; A23L 7/10:1; A23F 3/34:1; A23C 9/13:1; C12G 3/02:1",
        "低糖复合果蔬汁|low-sugar mixed fruit and vegetable juice; 富硒茶饮料|selenium-enriched tea beverage;"
        " 速食杂粮粥|instant multigrain porridge; 益生菌发酵酸奶|probiotic fermented yoghurt; 植物基肉制品|plant-based meat"
        " product; 黄酒|yellow rice wine",
        "低温真空干燥|low-temperature vacuum drying; 酶解|enzymatic hydrolysis; 超高压杀菌|ultra-high-pressure"
        " sterilisation",
        "原料清洗、去皮后破碎|washing, peeling and crushing the raw materials; 加入复合酶进行酶解|enzymatically hydrolysing"
        " with a compound enzyme; 调配并均质|blending and homogenising; 杀菌后灌装|sterilising and filling;"
        " 冷却后包装入库|cooling,"
        " packing and storing",
        "口感好、营养丰富|tastes good and is rich in nutrients; 延长了产品保质期|extends the shelf life of the product;"
        " 保留了原料的风味|retains the flavour of the raw materials",
        "果蔬清洗机|fruit and vegetable washer|清洗槽,输送网带,喷淋管,鼓泡管,排水口|washing tank,conveyor mesh belt,spray pipe,"
        "bubbling pipe,drain outlet;"
        " 食品烘干装置|food drying device|烘箱,物料托盘,热风机,排湿口,温控器|drying oven,material tray,hot air blower,"
        "moisture vent,temperature controller",
        use="功能饮料|functional beverages; 代餐食品|meal replacement foods; 婴幼儿辅食|infant complementary foods",
        dsg="月饼礼盒|mooncake gift box|用于食品包装|for packaging food; 饮料瓶|beverage bottle|用于盛装饮料|for holding"
            " beverages",
    ),
    _Domain(
        "metallurgy", (3, 2, 0), "material",
        "C22C 38/02:2; C22C 21/00:2; C04B 35/565:1; B22F 10/28:2; C21D 8/02:2; C22C 14/00:1",
        "高强度耐候钢|high-strength weathering steel; 铝合金型材|aluminium alloy profile; 钛合金|titanium alloy;"
        " 碳化硅陶瓷|silicon carbide ceramic; 镍基高温合金|nickel-based superalloy",
        "真空感应熔炼|vacuum induction melting; 激光选区熔化|selective laser melting; 热等静压|hot isostatic pressing;"
        " 控轧控冷|controlled rolling and cooling",
        "按成分配比进行冶炼|smelting according to the composition ratio; 浇铸得到铸锭|casting into ingots;"
        " 对铸锭进行均匀化退火|homogenising and annealing the ingots; 热轧或锻造成形|hot rolling or forging;"
        " 固溶和时效处理|solution and ageing treatment",
        "强度高且韧性好|achieves high strength and good toughness; 耐腐蚀性能优异|has excellent corrosion resistance;"
        " 降低了合金成本|lowers alloy cost",
        "钢包烘烤装置|ladle baking device|烘烤盖,燃烧器,升降机构,助燃风机|baking cover,burner,lifting mechanism,combustion fan;"
        " 铝型材时效炉|ageing furnace for aluminium profiles|炉体,循环风机,加热器,炉门,料车|furnace body,circulating fan,heater,"
        "furnace door,charging car",
        use="桥梁建设|bridge construction; 航空发动机|aero-engines; 轨道交通车辆|rail transit vehicles",
    ),
    _Domain(
        "coatings", (2, 1, 0), "material",
        "C09D 163/00:2; C09D 5/08:2; C23C 14/35:2; C23C 16/455:1; C09D 175/04:1; C23C 4/134:1",
        "石墨烯防腐涂料|graphene anticorrosive coating; 超疏水涂层|superhydrophobic coating; 类金刚石薄膜|diamond-like"
        " carbon film; 水性环氧底漆|waterborne epoxy primer",
        "磁控溅射|magnetron sputtering; 等离子喷涂|plasma spraying; 化学气相沉积|chemical vapour deposition",
        "对基材表面进行除油和喷砂处理|degreasing and sandblasting the substrate surface; 配制涂料并研磨分散|formulating the"
        " coating and grinding it to disperse; 将涂料喷涂于基材表面|spraying the coating onto the substrate; 固化成膜|curing"
        " to form a film; 检测涂层附着力|testing the adhesion of the coating",
        "附着力强、耐盐雾性能好|adheres strongly and resists salt spray; 环保无污染|is environmentally friendly;"
        " 涂层耐磨性优异|provides a highly wear-resistant coating",
        "喷涂房|spray booth|房体,喷枪,过滤棉,排风机,照明灯|booth body,spray gun,filter cotton,exhaust fan,lamp;"
        " 涂料搅拌罐|coating mixing tank|罐体,搅拌桨,分散盘,电机,出料阀|tank body,stirring paddle,dispersing disc,motor,"
        "discharge valve",
        use="海洋工程装备|marine engineering equipment; 刀具表面强化|strengthening of cutting tool surfaces;"
            " 建筑外墙|building facades",
    ),
    _Domain(
        "environment", (3, 4, 0), "method",
        "C02F 9/00:2; C02F 1/44:1; C02F 3/30:2; B01D 53/86:2; B09B 3/00:1; B09C 1/08:1; F23G 5/00:1",
        "高盐废水零排放处理|zero-discharge treatment of high-salinity wastewater; 烟气脱硫脱硝|flue gas desulphurisation"
        " and denitrification; 污泥资源化利用|resource utilisation of sludge; 垃圾渗滤液处理|landfill leachate treatment;"
        " 土壤重金属修复|remediation of heavy-metal-contaminated soil",
        "膜生物反应器|a membrane bioreactor; 高级氧化|advanced oxidation; 选择性催化还原|selective catalytic reduction",
        "对污染物进行预处理|pretreating the pollutants; 调节酸碱度后进入反应单元|adjusting the pH before the reaction unit;"
        " 进行生化或催化处理|carrying out biochemical or catalytic treatment; 固液分离|separating solids from liquid;"
        " 出水或尾气达标排放|discharging the effluent or tail gas within limits",
        "处理效果稳定、运行成本低|treats reliably at low operating cost; 实现了资源回收|recovers resources;"
        " 减少了二次污染|reduces"
        " secondary pollution",
        "一体化污水处理设备|integrated sewage treatment equipment|罐体,曝气管,填料层,沉淀区,排泥阀|tank body,aeration pipe,"
        "packing layer,settling zone,sludge valve;"
        " 布袋除尘器|bag filter dust collector|箱体,滤袋,脉冲阀,灰斗,引风机|casing,filter bag,pulse valve,ash hopper,"
        "induced draught fan;"
        " 废气喷淋塔|exhaust gas spray tower|塔体,喷淋管,填料层,除雾器,循环水泵|tower body,spray pipe,packing layer,demister,"
        "circulating pump",
    ),
    _Domain(
        "chemical_engineering", (2, 2, 0), "material",
        "B01J 23/755:2; B01J 20/26:2; B01J 21/06:1; B01D 3/14:1; B01D 61/36:1; B01J 29/40:1",
        "负载型镍基催化剂|supported nickel-based catalyst; 金属有机框架吸附剂|metal-organic framework adsorbent;"
        " 分子筛膜|molecular sieve membrane; 固体酸催化剂|solid acid catalyst",
        "浸渍法|impregnation; 水热合成|hydrothermal synthesis; 溶剂热法|a solvothermal method",
        "将载体浸渍于金属盐溶液中|impregnating the support in a metal salt solution; 干燥后焙烧|drying and then calcining;"
        " 在氢气气氛下还原活化|reducing and activating in a hydrogen atmosphere; 压片成型|pressing into shape;"
        " 评价催化或吸附性能|evaluating catalytic or adsorption performance",
        "催化活性高、稳定性好|has high catalytic activity and good stability; 吸附容量大|has a large adsorption capacity;"
        " 可循环使用|can be reused",
        "固定床反应器|fixed-bed reactor|反应管,催化剂床层,预热器,分布板|reaction tube,catalyst bed,preheater,distribution plate;"
        " 精馏塔|rectification column|塔体,塔板,再沸器,回流罐,进料管|column body,tray,reboiler,reflux drum,feed pipe",
        use="二氧化碳加氢制甲醇|hydrogenation of carbon dioxide to methanol; 挥发性有机物吸附|adsorption of volatile"
            " organic compounds; 生物柴油制备|biodiesel production",
    ),
    _Domain(
        "machine_tools", (3, 7, 0.5), "mech",
        "B23K 26/38:2; B23K 37/04:2; B23Q 3/06:2; B24B 27/00:2; B23P 19/04:1; B21D 37/10:1; B23Q 17/09:1",
        "激光焊接焊缝跟踪|seam tracking for laser welding; 数控机床热误差补偿|thermal error compensation of CNC machine"
        " tools; 刀具磨损监测|tool wear monitoring; 薄壁件精密加工|precision machining of thin-walled parts",
        "机器视觉|machine vision; 声发射检测|acoustic emission detection; 有限元分析|finite element analysis",
        "将工件装夹在工作台上|clamping the workpiece on the worktable; 采集加工过程中的传感信号|collecting sensor signals"
        " during machining; 计算加工误差|calculating the machining error; 生成补偿后的加工路径|generating a compensated"
        " tool path; 完成加工并检测|finishing the machining and inspecting the part",
        "提高了加工精度|improves machining accuracy; 提高了生产效率|raises production efficiency; 延长了刀具寿命|extends tool"
        " life",
        "焊接工装夹具|welding fixture|底座,定位销,夹紧块,气缸,支撑板|base,locating pin,clamping block,air cylinder,"
        "support plate;"
        " 数控机床防护罩|protective cover for a CNC machine tool|罩体,观察窗,伸缩护板,密封条|cover body,observation window,"
        "telescopic guard,sealing strip;"
        " 自动上下料机构|automatic loading and unloading mechanism|机架,导轨,滑块,气动夹爪,伺服电机|frame,guide rail,slider,"
        "pneumatic gripper,servo motor;"
        " 钢管切割装置|steel pipe cutting device|工作台,切割锯片,夹紧机构,进给丝杆,电机|worktable,saw blade,clamping mechanism,"
        "feed screw,motor;"
        " 打磨抛光装置|grinding and polishing device|机架,打磨头,旋转工作台,集尘罩,驱动电机|frame,grinding head,rotary table,"
        "dust hood,drive motor",
        dsg="数控机床|CNC machine tool|用于金属切削加工|for metal cutting",
    ),
    _Domain(
        "handling", (3, 6, 1), "mech",
        "B25J 9/16:3; B25J 15/00:2; B65G 47/90:2; B65G 1/137:2; B66C 13/48:1; B65D 81/38:1",
        "机械臂抓取位姿估计|grasp pose estimation for robot arms; 仓储机器人调度|warehouse robot scheduling;"
        " 物料分拣|material sorting; 集装箱自动装卸|automatic container loading and unloading",
        "深度强化学习|deep reinforcement learning; 三维视觉|three-dimensional vision; 数字孪生|digital twins",
        "通过相机获取物料的图像|capturing images of the materials with a camera; 识别物料的位置和姿态|recognising the"
        " position and pose of the materials; 规划机械臂的运动轨迹|planning the motion trajectory of the robot arm;"
        " 控制末端执行器完成抓取|controlling the end effector to grasp; 将物料放置到目标位置|placing the materials at the"
        " target position",
        "提高了分拣效率|improves sorting efficiency; 抓取成功率高|achieves a high grasping success rate; 降低了人工成本|reduces"
        " labour costs",
        "机械臂末端夹爪|end gripper for a robot arm|连接法兰,夹爪,驱动气缸,力传感器|connecting flange,gripper jaw,drive cylinder,"
        "force sensor;"
        " 物流输送线|logistics conveyor line|机架,输送带,滚筒,挡边,光电传感器|frame,conveyor belt,roller,side guard,"
        "photoelectric sensor;"
        " 码垛机器人|palletising robot|底座,旋转臂,升降立柱,吸盘,控制柜|base,rotating arm,lifting column,suction cup,"
        "control cabinet;"
        " 保温包装箱|insulated packaging box|箱体,保温层,箱盖,冰袋槽|box body,insulating layer,lid,ice pack slot",
        dsg="物流机器人|logistics robot|用于仓库货物搬运|for moving goods in warehouses; 包装盒|packaging box|用于物品包装|for"
            " packaging articles",
    ),
    _Domain(
        "engines", (2, 3, 0), "mech",
        "F03D 7/04:2; F03D 17/00:1; F04D 29/42:2; F02M 26/00:1; F01D 5/18:2; F04B 39/12:1",
        "风电机组偏航控制|yaw control of wind turbines; 燃气轮机叶片冷却|gas turbine blade cooling; 离心泵故障监测|centrifugal"
        " pump fault monitoring; 发动机排放控制|engine emission control",
        "计算流体力学仿真|computational fluid dynamics simulation; 模型预测控制|model predictive control;"
        " 振动分析|vibration analysis",
        "采集机组的运行参数|collecting operating parameters of the unit; 计算当前工况下的最优设定值|calculating the optimal"
        " set point for the current operating condition; 调节执行机构|adjusting the actuators; 监测机组振动和温度|monitoring"
        " vibration and temperature of the unit; 异常时触发保护动作|triggering protection in case of anomalies",
        "提高了发电效率|raises power generation efficiency; 降低了机组载荷|reduces loads on the unit; 延长了设备寿命|extends"
        " equipment life",
        "风电叶片|wind turbine blade|叶根,主梁,壳体,后缘,防雷接闪器|blade root,spar cap,shell,trailing edge,"
        "lightning receptor;"
        " 离心泵叶轮|centrifugal pump impeller|前盖板,后盖板,叶片,轮毂,平衡孔|front shroud,back shroud,vane,hub,balance hole;"
        " 空压机消音器|silencer for an air compressor|筒体,吸音棉,穿孔管,进气口|cylinder,sound-absorbing cotton,"
        "perforated pipe,air inlet",
    ),
    _Domain(
        "mechanical_elements", (2, 5, 1), "mech",
        "F16H 1/28:2; F16K 31/06:2; F16L 37/08:1; F16C 33/66:1; F16B 2/06:1; F16F 15/02:2",
        "减速器齿轮修形|gear modification for reducers; 管道泄漏检测|pipeline leak detection; 轴承润滑状态监测|bearing"
        " lubrication condition monitoring; 振动主动控制|active vibration control",
        "有限元分析|finite element analysis; 声学检测|acoustic detection; 主动控制|active control",
        "建立传动系统的动力学模型|establishing a dynamic model of the transmission; 测量关键部位的振动和温度|measuring"
        " vibration and temperature at key positions; 识别异常工况|identifying abnormal operating conditions;"
        " 调整运行参数|adjusting the operating parameters; 记录并上传监测数据|recording and uploading the monitoring data",
        "降低了传动噪声|reduces transmission noise; 提高了密封可靠性|improves sealing reliability; 减小了振动|reduces"
        " vibration",
        "行星齿轮减速器|planetary gear reducer|壳体,太阳轮,行星轮,内齿圈,输出轴|housing,sun gear,planet gear,ring gear,"
        "output shaft;"
        " 电磁阀|solenoid valve|阀体,阀芯,电磁线圈,复位弹簧,密封圈|valve body,valve core,solenoid coil,return spring,"
        "sealing ring;"
        " 快速管接头|quick pipe coupling|接头本体,插管,锁紧卡套,密封圈|coupling body,insert pipe,locking ferrule,sealing ring;"
        " 减振器|shock absorber|缸筒,活塞杆,阻尼阀,螺旋弹簧,防尘罩|cylinder tube,piston rod,damping valve,coil spring,"
        "dust cover",
        dsg="阀门|valve|用于管道流体控制|for controlling fluid in pipelines; 减速机|speed reducer|用于动力传动|for power"
            " transmission",
    ),
    _Domain(
        "thermal", (2, 4, 2), "mech",
        "F24F 11/64:2; F25B 30/02:2; F28D 20/00:1; F24F 13/20:2; F24S 10/70:1; F25D 11/00:1; F28F 9/02:1",
        "空调节能控制|energy-saving control of air conditioners; 数据中心液冷散热|liquid cooling of data centres;"
        " 相变储热|phase-change heat storage; 热泵除霜控制|defrost control of heat pumps",
        "模糊控制|fuzzy control; 强化学习|reinforcement learning; 相变材料|phase-change materials",
        "检测室内外温度和湿度|detecting indoor and outdoor temperature and humidity; 根据负荷计算目标运行频率|calculating the"
        " target operating frequency from the load; 调节压缩机和风机转速|adjusting the compressor and fan speeds;"
        " 判断是否满足除霜条件|determining whether the defrost condition is met; 切换运行模式|switching the operating mode",
        "节能效果显著|saves considerable energy; 提高了换热效率|improves heat exchange efficiency; 提升了舒适性|improves"
        " comfort",
        "空调室内机|indoor unit of an air conditioner|壳体,换热器,贯流风扇,导风板,接水盘|housing,heat exchanger,cross-flow fan,"
        "air deflector,drip tray;"
        " 板式换热器|plate heat exchanger|换热板片,密封垫,固定压紧板,夹紧螺栓|heat transfer plate,gasket,fixed pressure plate,"
        "tightening bolt;"
        " 空气源热泵热水器|air-source heat pump water heater|压缩机,蒸发器,水箱,膨胀阀,风机|compressor,evaporator,water tank,"
        "expansion valve,fan",
        dsg="空调|air conditioner|用于调节室内温度|for regulating indoor temperature;"
            " 空气净化器|air purifier|用于净化室内空气|for"
            " purifying indoor air; 电暖器|electric heater|用于室内取暖|for space heating",
    ),
    _Domain(
        "vehicles", (5, 5, 2), "mech",
        "B60L 53/10:1; B60L 58/12:2; B60W 30/09:2; B60W 60/00:2; B62D 15/02:1; B60K 6/20:1; B60R 16/023:1;"
        " B64U 10/13:1",
        "自动驾驶车辆轨迹规划|trajectory planning for autonomous vehicles; 电动汽车能量管理|energy management of"
        " electric vehicles; 自动泊车|automatic parking; 车道保持辅助|lane keeping assistance; 无人机自主降落|autonomous"
        " landing of UAVs",
        "多传感器融合|multi-sensor fusion; 深度强化学习|deep reinforcement learning; 模型预测控制|model predictive control",
        "获取车辆周围的环境感知数据|acquiring perception data of the vehicle surroundings; 融合多传感器数据构建局部地图|fusing"
        " multi-sensor data into a local map; 预测周围交通参与者的轨迹|predicting the trajectories of surrounding road"
        " users; 规划车辆的行驶轨迹|planning the driving trajectory of the vehicle; 控制车辆执行转向和加减速|controlling the"
        " vehicle to steer, accelerate and brake",
        "提高了行驶安全性|improves driving safety; 降低了能耗|reduces energy consumption; 提升了乘坐舒适性|improves ride"
        " comfort",
        "车载充电机|on-board charger|壳体,功率板,控制板,水冷板,高压接插件|housing,power board,control board,water cooling plate,"
        "high-voltage connector;"
        " 汽车座椅调节机构|car seat adjustment mechanism|滑轨,调角器,驱动电机,连杆,锁止机构|slide rail,recliner,drive motor,"
        "connecting rod,locking mechanism;"
        " 电动车防盗锁|anti-theft lock for electric vehicles|锁体,锁舌,电机,报警模块|lock body,lock tongue,motor,"
        "alarm module;"
        " 无人机起落架|landing gear for a UAV|支撑杆,缓冲垫,连接座,收放舵机|support rod,cushion pad,connecting seat,"
        "retraction servo",
        dsg="电动自行车|electric bicycle|用于短途代步|for short trips; 汽车|car|用于载人出行|for carrying passengers;"
            " 无人机|drone|用于航拍|for aerial photography",
    ),
    _Domain(
        "civil", (3, 6, 0.5), "mech",
        "E04B 1/98:1; E04G 21/14:2; E02D 17/04:2; E21D 11/10:1; E01D 19/00:1; E04F 13/075:1; E04B 2/00:1",
        "盾构隧道管片拼装|segment erection in shield tunnels; 深基坑变形监测|deformation monitoring of deep foundation"
        " pits; 装配式建筑构件连接|connection of prefabricated building components; 桥梁健康监测|bridge health monitoring",
        "建筑信息模型|building information modelling; 光纤传感|optical fibre sensing; 有限元分析|finite element analysis",
        "布设监测点并安装传感器|laying out monitoring points and installing sensors; 定期采集位移和应力数据|periodically"
        " collecting displacement and stress data; 建立结构的数值模型|building a numerical model of the structure;"
        " 评估结构安全状态|assessing the safety of the structure; 超限时发出预警|issuing a warning when limits are exceeded",
        "施工效率高|speeds up construction; 保证了施工安全|ensures construction safety; 降低了工程造价|reduces construction"
        " cost",
        "建筑施工用脚手架|scaffold for building construction|立杆,横杆,斜撑,底托,连接扣件|upright,ledger,diagonal brace,"
        "base jack,coupler;"
        " 装配式墙板连接件|connector for prefabricated wall panels|连接钢板,预埋件,连接螺栓,橡胶垫|connecting steel plate,"
        "embedded part,connecting bolt,rubber pad;"
        " 基坑支护结构|foundation pit support structure|支护桩,冠梁,锚索,钢支撑,止水帷幕|support pile,capping beam,anchor cable,"
        "steel strut,waterproof curtain;"
        " 隧道衬砌台车|tunnel lining trolley|门架,模板,液压油缸,行走机构|gantry,formwork,hydraulic cylinder,"
        "travelling mechanism",
        dsg="岗亭|guard booth|用于安保值守|for security guards",
    ),
    _Domain(
        "agriculture", (2, 4, 0.5), "mech",
        "A01B 79/00:1; A01G 9/24:2; A01G 25/16:2; A01K 61/10:1; A01C 7/20:1; A01D 46/30:1",
        "智能灌溉控制|intelligent irrigation control; 作物病虫害识别|identification of crop pests and diseases;"
        " 温室环境调控|greenhouse climate control; 水产养殖水质调控|water quality control in aquaculture",
        "物联网|the Internet of Things; 深度学习|deep learning; 多光谱成像|multispectral imaging",
        "采集土壤墒情和气象数据|collecting soil moisture and weather data; 预测作物需水量|predicting the water demand of the"
        " crop; 生成灌溉或施肥方案|generating an irrigation or fertilisation plan; 控制阀门和水泵执行|actuating the valves"
        " and pumps; 记录作物生长数据|recording crop growth data",
        "节约了水肥资源|saves water and fertiliser; 提高了作物产量|increases crop yield; 减少了人工投入|reduces labour input",
        "播种机排种器|seed metering device for a seeder|壳体,排种盘,刮种器,驱动轴|housing,seed plate,seed scraper,drive shaft;"
        " 温室遮阳装置|greenhouse shading device|遮阳网,卷膜电机,传动轴,拉幕线|shade net,film rolling motor,drive shaft,"
        "curtain wire;"
        " 果树修剪装置|fruit tree pruning device|伸缩杆,剪切刀头,驱动电机,握把|telescopic rod,cutting head,drive motor,grip;"
        " 水肥一体化灌溉装置|integrated irrigation and fertigation device|储液罐,施肥泵,过滤器,滴灌管,电磁阀|liquid tank,"
        "fertiliser pump,filter,drip pipe,solenoid valve",
        dsg="花盆|flower pot|用于种植花卉|for growing flowers",
    ),
    _Domain(
        "household", (1, 4, 4), "mech",
        "A47J 27/00:1; A47J 31/44:1; A47L 11/40:2; A47B 13/00:1; A47C 7/72:1; A47J 36/00:1",
        "扫地机器人路径规划|path planning for robot vacuum cleaners; 烹饪温度控制|cooking temperature control;"
        " 智能家居语音控制|voice control of smart homes",
        "激光导航|laser navigation; 模糊控制|fuzzy control; 语音识别|speech recognition",
        "获取环境地图和障碍物信息|obtaining an environment map and obstacle information; 划分清洁或加热区域|dividing the"
        " cleaning or heating zones; 规划工作路径或功率曲线|planning the working path or power curve; 执行并实时调整|executing"
        " and adjusting in real time; 完成后自动返回或保温|returning automatically or keeping warm when done",
        "使用方便|is convenient to use; 清洁覆盖率高|achieves high cleaning coverage; 降低了能耗|reduces energy consumption",
        "电饭煲内胆|inner pot for a rice cooker|锅体,不粘涂层,复合底,提手|pot body,non-stick coating,composite base,handle;"
        " 扫地机器人边刷|side brush for a robot vacuum cleaner|刷座,刷毛束,卡扣,连接轴|brush holder,bristle tuft,clip,"
        "connecting shaft;"
        " 可升降办公桌|height-adjustable desk|桌板,升降柱,横梁,控制面板,脚架|desktop,lifting column,crossbeam,control panel,"
        "foot frame;"
        " 多功能收纳柜|multifunctional storage cabinet|柜体,柜门,隔板,抽屉,滑轨|cabinet body,cabinet door,shelf,drawer,"
        "slide rail",
        dsg="电热水壶|electric kettle|用于烧水|for boiling water; 办公椅|office chair|用于办公坐具|as office seating;"
            " 茶几|coffee table|用于放置物品|for placing articles; 扫地机器人|robot vacuum cleaner|用于地面清洁|for cleaning"
            " floors; 台灯|desk lamp|用于照明|for lighting",
    ),
    _Domain(
        "textile", (1, 1, 1), "material",
        "D01F 8/14:1; D06M 11/83:1; D04H 1/4382:1; D01D 5/00:1; D06M 15/263:1",
        "抗菌聚酯纤维|antibacterial polyester fibre; 石墨烯改性面料|graphene-modified fabric; 熔喷非织造布|melt-blown"
        " nonwoven fabric; 吸湿排汗面料|moisture-wicking fabric",
        "静电纺丝|electrospinning; 熔融纺丝|melt spinning; 等离子体处理|plasma treatment",
        "将改性母粒与切片共混|blending the modified masterbatch with chips; 熔融纺丝得到初生纤维|melt spinning into"
        " as-spun fibres; 牵伸和热定型|drawing and heat setting; 织造成面料|weaving into fabric; 进行后整理|finishing",
        "抗菌率高且耐洗涤|is highly antibacterial and wash-resistant; 穿着舒适|is comfortable to wear; 过滤效率高|filters"
        " efficiently",
        "纺丝组件|spinning pack|喷丝板,过滤网,分配板,组件壳体|spinneret,filter screen,distribution plate,pack housing;"
        " 布料裁剪装置|fabric cutting device|工作台,切刀,压辊,送料辊,驱动电机|worktable,cutter,press roller,feed roller,"
        "drive motor",
        use="医用防护服|medical protective clothing; 运动服装|sportswear; 空气过滤|air filtration",
        dsg="面料|fabric|用于服装制作|for making garments; 口罩|face mask|用于个人防护|for personal protection",
    ),
)

# Shared phrases: "structure" abstracts' effects, connection types, abstract openings, design details.
_STRUCTURE_EFFECTS = (
    "结构简单、使用方便|has a simple structure and is convenient to use; 安装拆卸方便，维护成本低|is easy to install and"
    " remove and cheap to maintain; 运行稳定可靠|operates stably and reliably; 降低了生产成本|reduces production cost;"
    " 提高了工作效率|improves working efficiency; 体积小、重量轻|is small and light; 密封性能好|seals well;"
    " 有效延长了使用寿命|effectively extends the service life"
)
_CONNECTIONS = (
    "固定连接|fixedly connected to; 转动连接|rotatably connected to; 可拆卸连接|detachably connected to;"
    " 滑动连接|slidably connected to; 电性连接|electrically connected to; 螺纹连接|screwed to"
)
_INTRO_INVENTION = "本发明公开了|The invention discloses; 本发明提供了|The invention provides; 本发明涉及|The invention" \
                   " relates to"
_INTRO_UTILITY = "本实用新型公开了|The utility model discloses; 本实用新型提供了|The utility model provides"
_LEAD = "包括以下步骤|comprising the following steps; 所述方法包括|the method comprising"
_DESIGN_POINTS = "形状|the shape; 形状与图案|the shape and pattern; 形状与色彩的结合|the combination of shape and colour"
_DESIGN_VIEWS = "立体图|perspective view; 主视图|front view; 立体图1|perspective view 1"
# Qualifiers: of method topics, of materials, of devices (see _QUALIFIER_GROUP).
_QUALIFIERS = (
    "高精度|high-precision; 自适应|adaptive; 在线|online; 快速|fast; 鲁棒|robust; 实时|real-time; 智能|intelligent;"
    " 高效|efficient",
    "高性能|high-performance; 低成本|low-cost; 高稳定性|highly stable; 新型|novel",
    "新型|novel; 便于安装的|easy-to-install; 高效|high-efficiency; 智能|intelligent; 多功能|multifunctional;"
    " 模块化|modular; 轻量化|lightweight; 可调节|adjustable; 防水|waterproof; 低噪音|low-noise; 自动|automatic;"
    " 便携式|portable; 可拆卸|detachable; 节能|energy-saving",
)
_QUALIFIER_GROUP = {"method": 0, "mech": 0, "material": 1, "device": 2}
_QUALIFIER_BLANK = {"method": 0.5, "mech": 0.5, "material": 0.5, "device": 0.35}  # share without a qualifier
_DESIGN_VARIANTS = "|; |; |; （一）| (1); （二）| (2); （智能型）| (smart); （便携式）| (portable)"

# Inventors: common surnames with rough population shares (%), and given-name characters; pinyin alongside.
_SURNAMES = (
    "王 Wang 7.1 李 Li 7.0 张 Zhang 6.7 刘 Liu 5.4 陈 Chen 4.5 杨 Yang 3.1 黄 Huang 2.2 赵 Zhao 2.0 吴 Wu 2.0"
    " 周 Zhou 1.9 徐 Xu 1.5 孙 Sun 1.5 马 Ma 1.3 朱 Zhu 1.3 胡 Hu 1.2 郭 Guo 1.1 何 He 1.0 林 Lin 1.0 高 Gao 1.0"
    " 罗 Luo 0.9 郑 Zheng 0.9 梁 Liang 0.8 谢 Xie 0.7 宋 Song 0.7 唐 Tang 0.7 许 Xu 0.6 韩 Han 0.6 冯 Feng 0.6"
    " 邓 Deng 0.6 曹 Cao 0.5 彭 Peng 0.5 曾 Zeng 0.5 肖 Xiao 0.5 田 Tian 0.4 董 Dong 0.4 袁 Yuan 0.4 潘 Pan 0.4"
    " 于 Yu 0.4 蒋 Jiang 0.4 蔡 Cai 0.4 余 Yu 0.4 杜 Du 0.3 叶 Ye 0.3 程 Cheng 0.3 苏 Su 0.3 魏 Wei 0.3 吕 Lyu 0.3"
    " 丁 Ding 0.3 任 Ren 0.3 沈 Shen 0.3 姚 Yao 0.3 卢 Lu 0.3 姜 Jiang 0.2 崔 Cui 0.2 钟 Zhong 0.2 谭 Tan 0.2"
    " 陆 Lu 0.2 汪 Wang 0.2 范 Fan 0.2 金 Jin 0.2 石 Shi 0.2 廖 Liao 0.2 贾 Jia 0.2 夏 Xia 0.2 韦 Wei 0.2 付 Fu 0.2"
    " 方 Fang 0.2 白 Bai 0.2 邹 Zou 0.2 孟 Meng 0.2 熊 Xiong 0.2 秦 Qin 0.2 邱 Qiu 0.2 江 Jiang 0.2 尹 Yin 0.2"
    " 薛 Xue 0.1 闫 Yan 0.1 段 Duan 0.1 雷 Lei 0.1 侯 Hou 0.1 龙 Long 0.1 史 Shi 0.1 陶 Tao 0.1 黎 Li 0.1 贺 He 0.1"
    " 顾 Gu 0.1 毛 Mao 0.1 郝 Hao 0.1 龚 Gong 0.1 邵 Shao 0.1 万 Wan 0.1 钱 Qian 0.1 严 Yan 0.1 武 Wu 0.1 戴 Dai 0.1"
    " 莫 Mo 0.1 孔 Kong 0.1 向 Xiang 0.1 汤 Tang 0.1"
)
_GIVEN = (
    "伟 wei 芳 fang 娜 na 敏 min 静 jing 丽 li 强 qiang 磊 lei 军 jun 洋 yang 勇 yong 艳 yan 杰 jie 娟 juan 涛 tao"
    " 明 ming 超 chao 秀 xiu 霞 xia 平 ping 刚 gang 英 ying 华 hua 玉 yu 萍 ping 红 hong 建 jian 国 guo 文 wen"
    " 辉 hui 鹏 peng 飞 fei 斌 bin 宇 yu 浩 hao 凯 kai 健 jian 俊 jun 帆 fan 旭 xu 宁 ning 龙 long 林 lin 欣 xin"
    " 晨 chen 阳 yang 雪 xue 琳 lin 晶 jing 婷 ting 倩 qian 颖 ying 慧 hui 佳 jia 志 zhi 海 hai 小 xiao 晓 xiao"
    " 立 li 思 si 子 zi 一 yi 天 tian 博 bo 睿 rui 嘉 jia 泽 ze 振 zhen 永 yong 春 chun 新 xin 成 cheng 德 de"
    " 荣 rong 庆 qing 云 yun 雨 yu 峰 feng 波 bo 亮 liang 兵 bing 东 dong 彬 bin 翔 xiang 鑫 xin 露 lu 蕾 lei"
    " 瑶 yao 怡 yi 梅 mei 兰 lan 卫 wei 安 an 昊 hao 轩 xuan 晗 han 铭 ming 诚 cheng 雯 wen"
)


# --------------------------------------------------------------------------- title and abstract templates
# (Chinese title, English title, English phrase for use inside a sentence, abstract type)

# {qtopic}/{qdev}: the topic or device with an optional qualifier (高精度, low-cost, 可调节, ...).
_METHOD_INVENTION = (
    ("一种基于{tech}的{qtopic}方法", "Method for {qtopic} based on {tech}", "a method for {qtopic} based on {tech}",
     "steps"),
    ("一种基于{tech}和{tech2}的{topic}方法", "Method for {topic} based on {tech} and {tech2}",
     "a method for {topic} based on {tech} and {tech2}", "steps"),
    ("一种{qtopic}方法及系统", "Method and system for {qtopic}", "a method and system for {qtopic}", "steps"),
    ("{topic}方法、装置、设备及存储介质", "Method and apparatus for {topic}, device and storage medium",
     "a method and apparatus for {topic}, a device and a storage medium", "steps"),
    ("一种{qtopic}方法", "Method for {qtopic}", "a method for {qtopic}", "steps"),
)
_MATERIAL_INVENTION = (
    ("一种{qtopic}及其制备方法", "{Qtopic} and preparation method thereof", "{a_qtopic} and a preparation method thereof",
     "steps"),
    ("一种{qtopic}的制备方法", "Preparation method of {qtopic}", "a preparation method of {qtopic}", "steps"),
    ("一种采用{tech}制备{qtopic}的方法", "Method for preparing {qtopic} by {tech}",
     "a method for preparing {qtopic} by {tech}", "steps"),
    ("{topic}在{use}中的应用", "Use of {topic} in {use}", "the use of {topic} in {use}", "steps"),
)
_MECH_INVENTION = (
    ("一种{qdev}", "{Qdev}", "{a_qdev}", "structure"),
    ("一种{qtopic}装置及方法", "Device and method for {qtopic}", "a device and method for {qtopic}", "steps"),
    ("一种基于{tech}的{qtopic}方法", "Method for {qtopic} based on {tech}", "a method for {qtopic} based on {tech}",
     "steps"),
    ("一种{qdev}及其使用方法", "{Qdev} and method of using same", "{a_qdev} and a method of using same", "structure"),
)
_UTILITY_MODEL = (("一种{qdev}", "{Qdev}", "{a_qdev}", "structure"),)
_DESIGN = (("{dsg}{variant}", "{Dsg}{variant}", "{dsg}{variant}", "design"),)
_TITLE_SETS = {"method": _METHOD_INVENTION, "material": _MATERIAL_INVENTION, "mech": _MECH_INVENTION,
               "utility_model": _UTILITY_MODEL, "design": _DESIGN}
_TEMPLATES: list[tuple[str, str, str, str]] = []
_TEMPLATE_IDS: dict[str, np.ndarray] = {}  # title set -> positions of its templates in _TEMPLATES
for _key, _group in _TITLE_SETS.items():
    _TEMPLATE_IDS[_key] = np.arange(len(_TEMPLATES), len(_TEMPLATES) + len(_group))
    _TEMPLATES.extend(_group)

_ABSTRACTS = {
    ("steps", "zh", 3): "{intro}{title}，{lead}：{s1}；{s2}；{s3}。{subject}{effect}。",
    ("steps", "zh", 4): "{intro}{title}，{lead}：{s1}；{s2}；{s3}；{s4}。{subject}{effect}。",
    ("steps", "en", 3): "{Intro} {inline}, {lead}: {s1}; {s2}; and {s3}. The {subject} {effect}.",
    ("steps", "en", 4): "{Intro} {inline}, {lead}: {s1}; {s2}; {s3}; and {s4}. The {subject} {effect}.",
    ("structure", "zh", 3): "{intro}{title}，包括{p1}、{p2}和{p3}，所述{p1}与所述{p2}{conn}，所述{p3}安装在所述{p1}上。"
                            "{subject}{seffect}。",
    ("structure", "en", 3): "{Intro} {inline}, comprising {a_p1}, {a_p2} and {a_p3}, wherein the {p1} is {conn} the"
                            " {p2}, and the {p3} is mounted on the {p1}. The {subject} {seffect}.",
    ("design", "zh", 3): "1．本外观设计产品的名称：{dsg}。2．本外观设计产品的用途：本外观设计产品{dsg_use}。"
                         "3．本外观设计产品的设计要点：在于{point}。4．最能表明设计要点的图片或照片：{view}。",
    ("design", "en", 3): "1. Name of the product: {dsg}. 2. Use of the product: {dsg_use}. 3. Design points: {point}."
                         " 4. The view that best shows the design points: {view}.",
}
_SUBJECT = {("invention", "zh"): "本发明", ("invention", "en"): "invention",
            ("utility_model", "zh"): "本实用新型", ("utility_model", "en"): "utility model"}


# --------------------------------------------------------------------------- vocabulary tables

def _entries(text: str) -> list[list[str]]:
    return [[f.strip() for f in e.split("|")] for e in text.split(";") if e.strip()]


def _article(phrase: str) -> str:
    first = phrase[:1]
    acronym = phrase[:2].isupper()
    vowel = first.lower() in "aeio" or (first.lower() == "u" and not acronym) or (first == "X" and acronym)
    return ("an " if vowel else "a ") + phrase


def _cap(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


class _Vocab:
    """One kind of phrase for all domains, flattened: domain d owns entries [offset[d], offset[d] + count[d]).

    An empty string is appended so that a domain without entries indexes a harmless value.
    """

    def __init__(self, per_domain: list[list[list[str]]]):
        flat = [e for entries in per_domain for e in entries] + [[""]]
        self.count = np.array([len(entries) for entries in per_domain], dtype=np.int64)
        self.offset = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)
        fields = [[(e + ["", "", ""])[i] for e in flat] for i in range(4)]
        self.variants = {
            "zh": np.array(fields[0], dtype=_S),
            "en": np.array(fields[1], dtype=_S),
            "cap": np.array([_cap(e) for e in fields[1]], dtype=_S),
            "a": np.array([_article(e) if e else "" for e in fields[1]], dtype=_S),
            "use_zh": np.array(fields[2], dtype=_S),  # dsg only: what the product is for
            "use_en": np.array(fields[3], dtype=_S),
        }

    def pick(self, domain: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Uniformly pick an entry of each row's domain (u in [0, 1))."""
        count = self.count[domain]
        idx = self.offset[domain] + np.minimum((u * count).astype(np.int64), np.maximum(count - 1, 0))
        return np.where(count > 0, idx, len(self.variants["zh"]) - 1)


def _shared(text: str) -> _Vocab:
    return _Vocab([_entries(text)])


def _check_domains() -> None:
    """Fail at import, not with empty phrases at run time, when an edit leaves a domain incomplete."""
    for d in _DOMAINS:
        problems = []
        if d.style not in ("method", "material", "mech"):
            problems.append(f"unknown style {d.style!r}")
        for name, least in (("topic", 1), ("tech", 2), ("step", 4), ("effect", 1), ("dev", 1)):
            if len(_entries(getattr(d, name))) < least:
                problems.append(f"needs at least {least} {name} entries")
        if d.style == "material" and not _entries(d.use):
            problems.append("a material domain needs use entries")
        if d.weights[2] > 0 and not _entries(d.dsg):
            problems.append("a domain with designs needs dsg entries")
        for entry in _entries(d.dev) + _entries(d.dsg):
            if len(entry) != 4 or not all(entry):
                problems.append(f"malformed entry {entry}")
        for entry in _entries(d.dev):
            if len(entry) == 4 and not 3 <= len(entry[2].split(",")) == len(entry[3].split(",")):
                problems.append(f"device {entry[0]} needs at least 3 parts, as many in Chinese as in English")
        for code in (entry.rsplit(":", 1)[0].strip() for entry in d.ipc.split(";")):
            if normalize_ipc(code) != code or classify_ipc(code) is None:
                problems.append(f"IPC {code!r} is not canonical or not in a WIPO field")
        if problems:
            raise ValueError(f"synthetic domain {d.key}: {'; '.join(problems)}")


_check_domains()
_FIELDS = ("topic", "tech", "step", "effect", "dev", "use", "dsg")
_VOCAB = {name: _Vocab([_entries(getattr(d, name)) for d in _DOMAINS]) for name in _FIELDS}
# The parts a device is described with, grouped by device (in _VOCAB["dev"] order) rather than by domain.
_PARTS = _Vocab([[list(pair) for pair in zip(e[2].split(","), e[3].split(","), strict=True)]
                 for d in _DOMAINS for e in _entries(d.dev)])
_SHARED = {
    "seffect": _shared(_STRUCTURE_EFFECTS), "conn": _shared(_CONNECTIONS), "lead": _shared(_LEAD),
    "intro_invention": _shared(_INTRO_INVENTION), "intro_utility_model": _shared(_INTRO_UTILITY),
    "point": _shared(_DESIGN_POINTS), "view": _shared(_DESIGN_VIEWS),
    # Not _entries(): the English variants keep their leading space.
    "variant": _Vocab([[[e.split("|")[0].strip(), e.split("|")[1].rstrip()] for e in _DESIGN_VARIANTS.split(";")]]),
}
_QUALIFIER = _Vocab([_entries(text) for text in _QUALIFIERS])
_STYLE_NAMES = ("method", "material", "mech")
_DOMAIN_STYLE = np.array([_STYLE_NAMES.index(d.style) for d in _DOMAINS], dtype=np.int64)
_KIND_DOMAIN_WEIGHTS = np.array([d.weights for d in _DOMAINS], dtype=np.float64).T  # (3 kinds, domains)


# What a generated title is about: each domain's topics, devices and designs (its techniques are shared between
# domains and name a means, not the subject), both languages, longest first so that a regex names the longest.
_SUBJECT_KINDS = ("topic", "dev", "dsg")


@functools.cache
def _subject_table() -> dict[str, tuple[int, str, str]]:
    table: dict[str, tuple[int, str, str]] = {}
    for d in _DOMAINS:
        for rank, kind in enumerate(_SUBJECT_KINDS):
            for entry in _entries(getattr(d, kind)):
                for variant in entry[:2]:
                    if variant:
                        table.setdefault(variant.lower(), (rank, d.key, entry[0]))
    return table


@functools.cache
def _subject_pattern() -> re.Pattern:
    return re.compile("|".join(
        re.escape(v) if re.search(r"[\u3400-\u9fff]", v) else rf"(?<![a-z0-9]){re.escape(v)}(?![a-z0-9])"  # "car" not in "carbon"
        for v in sorted(_subject_table(), key=len, reverse=True)))


def subjects_named(text: str) -> list[tuple[str, str]]:
    """The generator's subjects a text names (case-folded, English between word boundaries, leftmost-longest),
    each as (its domain's key, its Chinese name) whichever language names it ("lithium-ion battery
    state-of-health estimation" -> ("battery", "锂离子电池健康状态估计")); topics first, then devices, then
    designs, each in the order named. A generated title is composed from one row's topic, device or design, so
    the first is what a listing is about, said by the generator, not judged (a device named in a method's title
    is its means: "一种采用微通道反应器制备...的方法"; a later subject where it is used: "...在新能源汽车电驱系统中的应用").
    bench/match_bench.py measures precision with it."""
    table = _subject_table()
    found = [table[f] for f in _subject_pattern().findall((text or "").lower())]
    return [(domain, name) for _rank, domain, name in sorted(found, key=lambda s: s[0])]  # stable: named order


def _ipc_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    codes, weights, count = [], [], []
    for d in _DOMAINS:
        pairs = [entry.rsplit(":", 1) for entry in d.ipc.split(";")]
        codes += [c.strip() for c, _ in pairs]
        weights += [float(w) for _, w in pairs]
        count.append(len(pairs))
    count_arr = np.array(count, dtype=np.int64)
    return (np.array(codes, dtype=_S), np.cumsum(weights), np.concatenate([[0], np.cumsum(count_arr)[:-1]]),
            count_arr)


_IPC_CODES, _IPC_CUMWEIGHT, _IPC_OFFSET, _IPC_COUNT = _ipc_table()


def _names_table(text: str, with_weight: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fields = text.split()
    step = 3 if with_weight else 2
    zh = np.array(fields[0::step], dtype=_S)
    pinyin = fields[1::step]
    weight = np.array([float(w) for w in fields[2::step]]) if with_weight else np.ones(len(zh))
    return zh, np.array(pinyin, dtype=_S), weight / weight.sum()


_SURNAME_ZH, _SURNAME_PY, _SURNAME_P = _names_table(_SURNAMES, True)
_GIVEN_ZH, _GIVEN_PY, _ = _names_table(_GIVEN, False)
_GIVEN_PY_CAP = np.array([_cap(p) for p in _GIVEN_PY.tolist()], dtype=_S)

_CHECK_CHARS = np.array(list("0123456789X"), dtype=_S)
_CHECK_WEIGHTS = np.array([2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5], dtype=np.int64)
_SLOT = re.compile(r"\{(\w+)\}")


# --------------------------------------------------------------------------- helpers

def _concat(parts: list) -> np.ndarray:
    out = parts[0] if isinstance(parts[0], np.ndarray) else np.array(parts[0], dtype=_S)
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return out


def _render(template: str, rows: np.ndarray, resolve) -> np.ndarray:
    """Fill `template` for the given row positions; resolve(slot, rows) returns a StringDType array for them."""
    parts: list = []
    pos = 0
    for m in _SLOT.finditer(template):
        if m.start() > pos:
            parts.append(template[pos:m.start()])
        parts.append(resolve(m[1], rows))
        pos = m.end()
    if pos < len(template):
        parts.append(template[pos:])
    if not isinstance(parts[0], np.ndarray):
        parts[0] = np.full(len(rows), parts[0], dtype=_S)
    return _concat(parts)


def check_chars(bodies: np.ndarray) -> np.ndarray:
    """CNIPA check characters of 12-digit application bodies given as int64: vectorised
    patents.inventory.numbers.cn_check_char (sum of digit x weight 2,3,...,9,2,3,4,5, mod 11; 10 is written X)."""
    rest = np.asarray(bodies, dtype=np.int64).copy()
    total = np.zeros(len(rest), dtype=np.int64)
    for weight in _CHECK_WEIGHTS[::-1]:  # from the last digit
        total += (rest % 10) * weight
        rest //= 10
    return _CHECK_CHARS[total % 11]


def _day_strings(first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """"YYYY-MM-DD" of every day from first to last, plus "" at the end (index -1: no date)."""
    days = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    return np.array(np.datetime_as_string(days, unit="D").tolist() + [""], dtype=object)


def _int_text(values: np.ndarray, blank: np.ndarray | None = None) -> np.ndarray:
    """Whole numbers as str objects via a lookup table (few distinct values, so much faster than str() per row);
    "" where blank."""
    table = np.array([str(i) for i in range(int(values.max(initial=0)) + 1)] + [""], dtype=object)
    return table[values if blank is None else np.where(blank, -1, values)]


# --------------------------------------------------------------------------- generator

def generate_inventory(n: int, *, seed: int = 0, holder_names: list[str] | None = None, start_serial: int = 0,
                       today: date | None = None, language_mix: float = 0.7,
                       english_text: bool = False) -> pd.DataFrame:
    """A synthetic inventory of `n` Chinese patents and applications as text columns (COLUMNS, then
    ENGLISH_TEXT_COLUMNS when `english_text`).

    seed: the same seed (and the same other arguments, including `today`) gives an identical frame.
    holder_names: names to draw co-owners from - typically other organisations on the platform, so imported
        co-owners link to them; None uses built-in fictional names, [] gives no co-owners at all.
    start_serial: row i gets the 7-digit serial start_serial + i; numbers of calls whose ranges
        [start_serial, start_serial + n) do not overlap never collide.
    today: the reference date (default: the current date); nothing is filed within 30 days before it and no
        date lies after it.
    language_mix: share of rows whose title and abstract are Chinese; the others are English.
    english_text: add the columns title_en and abstract_en, which the importer reads as the holder's English
        title and abstract: the same title and abstract in English for the Chinese rows, blank for the English
        ones. Draws nothing from the generator, so every other column is the same as without it.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    if start_serial < 0 or start_serial + n > MAX_SERIAL:
        raise ValueError(f"serials start_serial..start_serial+n-1 must lie in 0..{MAX_SERIAL - 1}")
    if not 0.0 <= language_mix <= 1.0:
        raise ValueError("language_mix must be between 0 and 1")
    today = today or date.today()
    last_filing = today - timedelta(days=30)
    if last_filing < EARLIEST_FILING:
        raise ValueError(f"today must be after {EARLIEST_FILING + timedelta(days=30)}")
    columns_out = COLUMNS + ENGLISH_TEXT_COLUMNS if english_text else COLUMNS
    if n == 0:
        return pd.DataFrame({name: pd.Series([], dtype="str") for name in columns_out})
    names = list(DEFAULT_CO_OWNERS if holder_names is None else dict.fromkeys(holder_names))
    rng = np.random.default_rng(seed)
    today64 = np.datetime64(today, "D")
    epoch = np.datetime64(EARLIEST_FILING, "D")

    # Kind, domain, language.
    kind_id = np.searchsorted(np.cumsum(KIND_SHARES), rng.random(n) * sum(KIND_SHARES), side="right")
    kind_id = np.minimum(kind_id, 2)
    domain = np.zeros(n, dtype=np.int64)
    for k in range(3):
        rows = np.flatnonzero(kind_id == k)
        p = _KIND_DOMAIN_WEIGHTS[k] / _KIND_DOMAIN_WEIGHTS[k].sum()
        domain[rows] = rng.choice(len(_DOMAINS), size=len(rows), p=p)
    chinese = rng.random(n) < language_mix
    is_inv, is_um, is_design = kind_id == 0, kind_id == 1, kind_id == 2

    # Filing dates: more recent years more likely (filings grew roughly linearly since 2004).
    span = int((np.datetime64(last_filing, "D") - epoch).astype(np.int64))
    u = rng.random(n)
    offset = np.where(rng.random(n) < 0.8, np.sqrt(u), u) * (span + 1)
    filing = epoch + np.minimum(offset.astype(np.int64), span).astype("timedelta64[D]")

    # Grant dates: inventions 1-4 years after filing (a few slower ones up to 6), utility models 3-18 months,
    # designs 3-12 months. Not granted yet -> pending.
    lag = np.where(
        is_inv,
        np.where(rng.random(n) < 0.95, 365 + rng.beta(2.0, 2.5, n) * 3 * 365, 4 * 365 + rng.random(n) * 2 * 365),
        np.where(is_um, 90 + rng.beta(2.0, 3.0, n) * 450, 90 + rng.beta(2.0, 3.0, n) * 275),
    ).astype(np.int64)
    grant = filing + lag.astype("timedelta64[D]")
    granted = grant <= today64

    # Term extension: a few inventions granted under the 2021 law more than 4 years after filing.
    late = is_inv & granted & (grant >= np.datetime64(DESIGN_15_YEAR_TERM_FROM, "D")) & (lag > 4 * 365)
    extension = np.where(late & (rng.random(n) < 0.8),
                         np.maximum(1, lag - 4 * 365 - (rng.random(n) * 120).astype(np.int64)), 0)

    # Statutory expiry; lapse (fees stopped) after an exponentially distributed time; a few invalidations.
    expiry = statutory_expiry_series(pd.Series(KINDS[kind_id]), pd.Series(filing), pd.Series(extension)) \
        .to_numpy().astype("datetime64[D]")
    hazard = np.where(is_inv, 0.03, 0.065)
    lapse = grant + (rng.exponential(1.0, n) / hazard * 365.25).astype(np.int64).astype("timedelta64[D]")
    status = np.full(n, "pending", dtype=object)
    in_force = granted & (expiry >= today64)
    status[granted] = "granted"
    status[granted & (expiry < today64)] = "expired"
    status[granted & (lapse < np.minimum(expiry, today64))] = "lapsed"
    invalid = granted & (rng.random(n) < 0.012)
    status[invalid] = "invalidated"
    in_force &= (status == "granted")

    # Numbers.
    serial = start_serial + np.arange(n, dtype=np.int64)
    year = filing.astype("datetime64[Y]").astype(np.int64) + 1970
    body = year * 100_000_000 + (kind_id + 1) * 10_000_000 + serial
    number = _concat([body.astype(_S), ".", check_chars(body)])

    # IPC: weighted main group of the domain, then 0-4 further distinct groups of the domain.
    target = (np.where(_IPC_OFFSET[domain] > 0, _IPC_CUMWEIGHT[_IPC_OFFSET[domain] - 1], 0.0)
              + rng.random(n) * (_IPC_CUMWEIGHT[_IPC_OFFSET[domain] + _IPC_COUNT[domain] - 1]
                                 - np.where(_IPC_OFFSET[domain] > 0, _IPC_CUMWEIGHT[_IPC_OFFSET[domain] - 1], 0.0)))
    main = np.clip(np.searchsorted(_IPC_CUMWEIGHT, target, side="right"),
                   _IPC_OFFSET[domain], _IPC_OFFSET[domain] + _IPC_COUNT[domain] - 1)
    count = _IPC_COUNT[domain]
    extra = np.minimum(np.where(is_inv, rng.poisson(1.4, n), rng.poisson(0.5, n)), np.minimum(count - 1, 4))
    shift = 1 + (rng.random(n) * (count - extra)).astype(np.int64)  # 1..count-extra: never wraps onto main
    ipc = _IPC_CODES[main]
    for j in range(4):
        rows = np.flatnonzero(extra > j)
        code = _IPC_CODES[_IPC_OFFSET[domain[rows]] + (main[rows] - _IPC_OFFSET[domain[rows]] + shift[rows] + j)
                          % count[rows]]
        ipc[rows] = _concat([ipc[rows], ";", code])
    ipc[is_design] = ""

    title, abstract, title_en, abstract_en = _texts(rng, n, kind_id, domain, chinese, english_text=english_text)
    inventors = _inventors(rng, n, kind_id, chinese)
    co_owners = _co_owners(rng, n, names)

    # Numbers that describe the patent.
    claims = np.where(is_inv, np.clip(np.rint(rng.lognormal(np.log(9.0), 0.45, n)), 1, 60),
                      np.clip(np.rint(rng.lognormal(np.log(6.5), 0.4, n)), 1, 20)).astype(np.int64)
    family = np.ones(n, dtype=np.int64)
    family += np.where(is_inv & (rng.random(n) < 0.15), rng.geometric(0.35, n), 0)
    family += np.where(is_um & (rng.random(n) < 0.06), 1, 0)  # filed the same day as an invention (一案双申)
    age_years = (today64 - filing).astype(np.int64) / 365.25
    rate = age_years * np.where(is_inv, 0.22, np.where(is_um, 0.1, 0.01))
    citations = rng.poisson(rate * rng.gamma(0.45, 1 / 0.45, n))
    star = rng.random(n) < 0.004
    citations = np.where(star & ~is_design, citations + np.minimum(rng.pareto(1.2, n) * 15, 600).astype(np.int64),
                         citations)

    evaluation = np.full(n, "", dtype=object)
    reported = ~is_inv & granted & (rng.random(n) < 0.12)
    evaluation[reported] = np.array(["positive", "partial", "negative"], dtype=object)[
        np.searchsorted([0.6, 0.85], rng.random(int(reported.sum())), side="right")]
    pledged = in_force & (rng.random(n) < 0.03)

    days = _day_strings(epoch, today64)
    filing_text = days[(filing - epoch).astype(np.int64)]
    grant_text = days[np.where(granted, (grant - epoch).astype(np.int64), -1)]

    columns = {
        "patent_number": number,
        "title": title,
        "kind": KINDS[kind_id],
        "filing_date": filing_text,
        "grant_date": grant_text,
        "ipc": ipc,
        "abstract": abstract,
        "claims_count": _int_text(claims, blank=is_design),
        "legal_status": status,
        "inventors": inventors,
        "co_owners": co_owners,
        "family_size": _int_text(family),
        "forward_citations": _int_text(citations),
        "evaluation_report": evaluation,
        "pledged": np.array(["no", "yes"], dtype=object)[pledged.astype(np.int64)],
        "term_extension_days": _int_text(extension),
        "title_en": title_en,
        "abstract_en": abstract_en,
    }
    return pd.DataFrame({name: pd.Series(np.asarray(columns[name]).astype(object), dtype="str")
                         for name in columns_out}, columns=columns_out)


def _texts(rng: np.random.Generator, n: int, kind_id: np.ndarray, domain: np.ndarray,
           chinese: np.ndarray, *, english_text: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Titles and abstracts, composed from the domain's phrases with the templates above, and the English
    title and abstract of the Chinese rows when `english_text` (the same phrases through the English templates;
    blank for the English rows, and for all rows without `english_text`)."""
    idx = {name: _VOCAB[name].pick(domain, rng.random(n)) for name in ("topic", "tech", "effect", "dev", "use",
                                                                        "dsg")}
    for name in ("seffect", "conn", "lead", "point", "view", "variant", "intro_invention", "intro_utility_model"):
        idx[name] = _SHARED[name].pick(np.zeros(n, dtype=np.int64), rng.random(n))
    tech_count, tech_offset = _VOCAB["tech"].count[domain], _VOCAB["tech"].offset[domain]
    idx["tech2"] = tech_offset + (idx["tech"] - tech_offset + 1 + (rng.random(n) * (tech_count - 1)).astype(np.int64)) \
        % tech_count
    blank = len(_QUALIFIER.variants["zh"]) - 1
    topic_group = np.array([_QUALIFIER_GROUP[d.style] for d in _DOMAINS])[domain]
    topic_blank = np.array([_QUALIFIER_BLANK[d.style] for d in _DOMAINS])[domain]
    for name, group, p_blank in (("qtopic", topic_group, topic_blank),
                                 ("qdev", np.full(n, _QUALIFIER_GROUP["device"]), _QUALIFIER_BLANK["device"])):
        idx[name] = np.where(rng.random(n) < p_blank, blank, _QUALIFIER.pick(group, rng.random(n)))
    # Consecutive steps keep their process order.
    n_steps = np.where(rng.random(n) < 0.4, 4, 3)
    step_count = _VOCAB["step"].count[domain]
    first_step = _VOCAB["step"].offset[domain] + (rng.random(n) * (step_count - n_steps + 1)).astype(np.int64)
    for j in range(4):
        idx[f"s{j + 1}"] = first_step + j
    device = np.minimum(idx["dev"], len(_PARTS.count) - 1)
    part_count = _PARTS.count[device]
    # p1 is the device's first part (its body, housing or base); p2 and p3 two distinct others.
    p2 = 1 + (rng.random(n) * (part_count - 1)).astype(np.int64)
    p3 = 1 + (p2 + (rng.random(n) * (part_count - 2)).astype(np.int64)) % (part_count - 1)
    for name, rel in (("p1", 0), ("p2", p2), ("p3", p3)):
        idx[name] = _PARTS.offset[device] + rel

    # Template per row: by kind and, for inventions, the domain's style.
    template = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for key, group in _TITLE_SETS.items():
        if key in ("utility_model", "design"):
            rows = kind_id == (1 if key == "utility_model" else 2)
        else:
            rows = (kind_id == 0) & (_DOMAIN_STYLE[domain] == _STYLE_NAMES.index(key))
        choice = np.minimum((u * len(group)).astype(np.int64), len(group) - 1)
        template[rows] = _TEMPLATE_IDS[key][choice[rows]]

    kind_names = np.array(["invention", "utility_model", "design"], dtype=object)
    title = np.full(n, "", dtype=_S)
    inline = np.full(n, "", dtype=_S)
    abstract = np.full(n, "", dtype=_S)
    title_en = np.full(n, "", dtype=_S)
    inline_en = np.full(n, "", dtype=_S)
    abstract_en = np.full(n, "", dtype=_S)

    def qualified(name: str, lang: str, rows: np.ndarray) -> np.ndarray:
        """{qtopic}, {Qtopic}, {a_qtopic} (and the same for dev): the qualifier, if any, goes first."""
        key = name.lower().removeprefix("a_")
        noun = _VOCAB[key[1:]]
        noun_idx, q_idx = idx[key[1:]][rows], idx[key][rows]
        q = _QUALIFIER.variants["zh" if lang == "zh" else "en"][q_idx]
        if lang == "zh":
            return np.strings.add(q, noun.variants["zh"][noun_idx])
        has_q = np.strings.str_len(q) > 0
        rest = np.strings.add(" ", noun.variants["en"][noun_idx])
        if name.startswith("a_"):
            return np.where(has_q, np.strings.add(_QUALIFIER.variants["a"][q_idx], rest), noun.variants["a"][noun_idx])
        if name[0] == "Q":
            return np.where(has_q, np.strings.add(_QUALIFIER.variants["cap"][q_idx], rest), noun.variants["cap"][noun_idx])
        return np.where(has_q, np.strings.add(q, rest), noun.variants["en"][noun_idx])

    def resolve(lang: str, kind: str, row_values: dict[str, np.ndarray]):
        def slot(name: str, rows: np.ndarray) -> np.ndarray:
            if name in row_values:
                return row_values[name][rows]
            if name.lower().removeprefix("a_") in ("qtopic", "qdev"):
                return qualified(name, lang, rows)
            base = name[0].lower() + name[1:]
            variant = "zh" if lang == "zh" else ("cap" if name[0].isupper() else "en")
            if base.startswith("a_"):
                base, variant = base[2:], "a"
            if base in ("intro", "subject"):
                if base == "subject":
                    return np.full(len(rows), _SUBJECT[(kind, lang)], dtype=_S)
                base = f"intro_{kind}"
            if base == "dsg_use":
                return _VOCAB["dsg"].variants[f"use_{lang}"][idx["dsg"][rows]]
            if base in ("p1", "p2", "p3"):
                return _PARTS.variants[variant][idx[base][rows]]
            vocab_name = "step" if base in ("s1", "s2", "s3", "s4") else "tech" if base == "tech2" else base
            vocab = _VOCAB.get(vocab_name) or _SHARED[vocab_name]
            return vocab.variants[variant][idx[base][rows]]
        return slot

    # Render group by group: rows sharing template, language, kind and number of steps.
    group = ((template * 2 + chinese) * 3 + kind_id) * 2 + (n_steps == 4)
    order = np.argsort(group, kind="stable")
    keys, starts = np.unique(group[order], return_index=True)
    for key, lo, hi in zip(keys.tolist(), starts.tolist(), starts[1:].tolist() + [n], strict=True):
        rows = order[lo:hi]
        t, lang, k, four = key // 12, "zh" if (key // 6) % 2 else "en", (key // 2) % 3, key % 2
        zh_title, en_title, en_inline, abstract_type = _TEMPLATES[t]
        slot = resolve(lang, kind_names[k], {"title": title, "inline": inline})
        title[rows] = _render(zh_title if lang == "zh" else en_title, rows, slot)
        if lang == "en":
            inline[rows] = _render(en_inline, rows, slot)
        steps = 4 if four and abstract_type == "steps" else 3
        abstract[rows] = _render(_ABSTRACTS[(abstract_type, lang, steps)], rows, slot)
        if lang == "zh" and english_text:
            # Rendering draws nothing: the English text costs time only, never changes the other columns.
            slot = resolve("en", kind_names[k], {"title": title_en, "inline": inline_en})
            title_en[rows] = _render(en_title, rows, slot)
            inline_en[rows] = _render(en_inline, rows, slot)
            abstract_en[rows] = _render(_ABSTRACTS[(abstract_type, "en", steps)], rows, slot)
    return title, abstract, title_en, abstract_en


MAX_INVENTORS = 6


def _inventors(rng: np.random.Generator, n: int, kind_id: np.ndarray, chinese: np.ndarray) -> np.ndarray:
    """1-6 Chinese names per row, ";"-separated; written in pinyin for half of the English-language rows.

    Like a real portfolio, the same people recur: names come from a pool of about n/4 inventors, and a row's
    inventors are consecutive pool members (a team), so every (first member, team size) string is built once.
    """
    pool = min(n // 4 + 30, 50_000)
    surname = rng.choice(len(_SURNAME_ZH), size=pool, p=_SURNAME_P)
    g1, g2 = rng.integers(0, len(_GIVEN_ZH), pool), rng.integers(0, len(_GIVEN_ZH), pool)
    two = rng.random(pool) < 0.65
    nothing = np.array("", dtype=_S)
    people = {
        "zh": _concat([_SURNAME_ZH[surname], _GIVEN_ZH[g1], np.where(two, _GIVEN_ZH[g2], nothing)]),
        "py": _concat([_SURNAME_PY[surname], " ", _GIVEN_PY_CAP[g1], np.where(two, _GIVEN_PY[g2], nothing)]),
    }
    teams = {}  # script -> (pool, MAX_INVENTORS) array: team starting at member i with j + 1 people
    for script, names in people.items():
        sizes = [names]
        for j in range(1, MAX_INVENTORS):
            sizes.append(_concat([sizes[-1], ";", names[(np.arange(pool) + j) % pool]]))
        teams[script] = np.stack(sizes, axis=1)
    count = np.clip(1 + np.where(kind_id == 0, rng.poisson(2.3, n), np.where(kind_id == 1, rng.poisson(1.5, n),
                                                                                rng.poisson(0.4, n))), 1, MAX_INVENTORS)
    first = rng.integers(0, pool, n)
    pinyin = ~chinese & (rng.random(n) < 0.5)
    return np.where(pinyin, teams["py"][first, count - 1], teams["zh"][first, count - 1])


_SHARE_SPLITS = np.array([[60, 40], [50, 50], [50, 30], [40, 30], [30, 20], [70, 30]], dtype=np.int64)
_SINGLE_SHARES = np.array([50, 40, 30, 20], dtype=np.int64)


def _co_owners(rng: np.random.Generator, n: int, names: list[str]) -> np.ndarray:
    """Mostly empty; about 6 % of rows name one or two co-owners, usually with shares like 名称:60;名称:40."""
    out = np.full(n, "", dtype=object)
    rows = np.flatnonzero(rng.random(n) < 0.06)
    if not names or not len(rows):
        return out
    m = len(rows)
    two = rng.random(m) < (0.35 if len(names) >= 2 else 0.0)
    with_share = rng.random(m) < 0.75
    first = rng.integers(0, len(names), m)
    second = (first + 1 + rng.integers(0, max(len(names) - 1, 1), m)) % len(names)
    split = _SHARE_SPLITS[rng.integers(0, len(_SHARE_SPLITS), m)]
    single = _SINGLE_SHARES[rng.integers(0, len(_SINGLE_SHARES), m)]
    table = np.array(names, dtype=_S)
    one = np.where(with_share, _concat([table[first], ":", single.astype(_S)]), table[first])
    pair = _concat([table[first], ":", split[:, 0].astype(_S), ";", table[second], ":", split[:, 1].astype(_S)])
    out[rows] = np.where(two, pair, one).astype(object)
    return out


# --------------------------------------------------------------------------- variants and files

def to_chinese_headers(frame: pd.DataFrame, *, chinese_values: bool = True) -> pd.DataFrame:
    """The same inventory with Chinese headers (CHINESE_HEADERS) and, by default, Chinese values for kind,
    legal status, evaluation report and pledged (发明/实用新型/外观设计, 有效, 是/否, ...)."""
    out = frame.copy()
    if chinese_values:
        for column, mapping in CHINESE_VALUES.items():
            if column in out:
                out[column] = out[column].map(lambda v, m=mapping: m.get(v, v)).astype("str")
    return out.rename(columns=CHINESE_HEADERS)


def write_inventory_csv(frame: pd.DataFrame, path: str | Path, *, encoding: str = "utf-8") -> Path:
    """Write a CSV the importer reads: comma-separated, header row, in `encoding` (utf-8, utf-8-sig, gbk,
    gb18030)."""
    path = Path(path)
    frame.to_csv(path, index=False, encoding=encoding, lineterminator="\n")
    return path


_NUMERIC_COLUMNS = {"claims_count", "family_size", "forward_citations", "term_extension_days"}
_DATE_COLUMNS = {"filing_date", "grant_date"}


def write_inventory_xlsx(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write an XLSX the importer reads, the way a spreadsheet would hold it: numbers as numbers, dates as
    date cells, everything else as text. Works with English or Chinese headers."""
    path = Path(path)
    english = {chinese: column for column, chinese in CHINESE_HEADERS.items()}
    sheet = frame.copy()
    for column in sheet.columns:
        canonical = english.get(column, column)
        if canonical in _NUMERIC_COLUMNS:
            sheet[column] = pd.to_numeric(sheet[column].replace("", None), errors="coerce").astype("Int64")
        elif canonical in _DATE_COLUMNS:
            sheet[column] = pd.to_datetime(sheet[column].replace("", None), format="%Y-%m-%d", errors="coerce")
    with pd.ExcelWriter(path, engine="openpyxl", datetime_format="YYYY-MM-DD", date_format="YYYY-MM-DD") as writer:
        sheet.to_excel(writer, index=False)
    return path
